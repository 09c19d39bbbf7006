import t from 'tap'
import { claimProblem, MAX_CLAIM_SECONDS, type ClaimPolicy } from '../../src/auth/claims.js'

const OPEN: ClaimPolicy = { issuers: null, audiences: null, requireExp: false }
const inAnHour = Math.floor(Date.now() / 1000) + 3600

t.test('claims within the policy have no problem', async t => {
  t.equal(claimProblem({ sub: 'alice' }, OPEN), null, 'an open policy asks for nothing')
  t.equal(claimProblem({ sub: 'alice', exp: inAnHour, nbf: 0, iat: 0, iss: 'x', aud: 'y' }, OPEN), null, 'and accepts any iss and aud')
  t.equal(claimProblem({ sub: 'alice', exp: inAnHour, iss: 'idp', aud: 'push' }, { issuers: ['idp'], audiences: ['push'], requireExp: true }), null)
})

t.test('exp, nbf and iat from 0 to the end of year 9999 are accepted', async t => {
  for (const claim of ['exp', 'nbf', 'iat']) {
    t.equal(claimProblem({ [claim]: 0 }, OPEN), null, `${claim} 0`)
    t.equal(claimProblem({ [claim]: MAX_CLAIM_SECONDS }, OPEN), null, `${claim} at the maximum`)
    t.equal(claimProblem({ [claim]: 1.5 }, OPEN), null, `${claim} with a fraction`)
  }
  t.equal(new Date(MAX_CLAIM_SECONDS * 1000).toISOString(), '9999-12-31T23:59:59.000Z', 'the maximum is the last second an ISO timestamp can write')
})

t.test('a date claim no date can hold is refused, naming the claim', async t => {
  const bad = [MAX_CLAIM_SECONDS + 1, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 9e15, '1700000000', null, true, {}]
  for (const claim of ['exp', 'nbf', 'iat']) {
    for (const value of bad) {
      t.match(claimProblem({ [claim]: value }, OPEN), new RegExp(`^invalid token: the ${claim} claim must be seconds since 1970, from 0 to ${MAX_CLAIM_SECONDS}`), `${claim} ${String(value)}`)
    }
  }
})

t.test('with requireExp a token without exp is refused; one with exp is not', async t => {
  const policy = { ...OPEN, requireExp: true }
  t.match(claimProblem({ sub: 'alice' }, policy), /it has no exp claim; this service only accepts tokens that expire/)
  t.equal(claimProblem({ sub: 'alice', exp: inAnHour }, policy), null)
})

t.test('a bad date is reported before a missing exp', async t => {
  t.match(claimProblem({ nbf: -5 }, { ...OPEN, requireExp: true }), /the nbf claim/)
})

t.test('with issuers, iss must be one of them', async t => {
  const policy = { ...OPEN, issuers: ['idp-a', 'idp-b'] }
  t.equal(claimProblem({ iss: 'idp-b' }, policy), null)
  t.match(claimProblem({}, policy), /the iss claim is missing/)
  t.match(claimProblem({ iss: 'idp-c' }, policy), /the iss claim is not an issuer this service trusts \(JWT_ISSUER\)/)
  t.match(claimProblem({ iss: ['idp-a'] }, policy), /not an issuer this service trusts/, 'a list is not an issuer')
  t.match(claimProblem({ iss: 'IDP-A' }, policy), /not an issuer/, 'compared exactly')
})

t.test('with audiences, aud (a string or a list) must name one of them', async t => {
  const policy = { ...OPEN, audiences: ['push', 'push-staging'] }
  t.equal(claimProblem({ aud: 'push' }, policy), null)
  t.equal(claimProblem({ aud: ['billing', 'push-staging'] }, policy), null, 'one entry of a list is enough')
  t.match(claimProblem({}, policy), /the aud claim is missing/)
  t.match(claimProblem({ aud: 'billing' }, policy), /the aud claim does not name this service \(JWT_AUDIENCE\)/)
  t.match(claimProblem({ aud: [] }, policy), /does not name this service/)
  t.match(claimProblem({ aud: [1, null, { push: true }] }, policy), /does not name this service/, 'entries that are not strings never match')
})

t.test('every reason fits a WebSocket close frame (123 bytes)', async t => {
  const reasons = [
    claimProblem({ exp: -1 }, OPEN),
    claimProblem({}, { ...OPEN, requireExp: true }),
    claimProblem({}, { ...OPEN, issuers: ['x'] }),
    claimProblem({ iss: 'y' }, { ...OPEN, issuers: ['x'] }),
    claimProblem({}, { ...OPEN, audiences: ['x'] }),
    claimProblem({ aud: 'y' }, { ...OPEN, audiences: ['x'] })
  ]
  for (const reason of reasons) {
    t.type(reason, 'string')
    t.ok(Buffer.byteLength(reason!) <= 123, `${Buffer.byteLength(reason!)} bytes: ${reason}`)
  }
})
