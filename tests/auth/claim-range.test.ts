import t from 'tap'
import { Client, token } from '../helper.js'
import { inAnHour, signRaw } from '../hand-signed.js'
import { spawnInstance } from '../redis.js'

// Tokens whose date claims no date can hold. Before the fix, an `auth`
// refresh with such an exp threw in toISOString inside the ws message
// listener and ended the process; the handshake accepted them.
const now = (): number => Math.floor(Date.now() / 1000)
const OUT_OF_RANGE: Array<[string, string, () => string]> = [
  ['exp 9e15', 'exp', () => '{"sub":"mallory","exp":9e15}'],
  ['exp 1e309 (Infinity)', 'exp', () => '{"sub":"mallory","exp":1e309}'],
  ['exp -1e309', 'exp', () => '{"sub":"mallory","exp":-1e309}'],
  ['exp year 10000', 'exp', () => '{"sub":"mallory","exp":253402300800}'],
  ['nbf 1e309', 'nbf', () => `{"sub":"mallory","exp":${inAnHour()},"nbf":1e309}`],
  ['nbf -1e20', 'nbf', () => `{"sub":"mallory","exp":${inAnHour()},"nbf":-1e20}`],
  ['iat 1e309', 'iat', () => `{"sub":"mallory","exp":${inAnHour()},"iat":1e309}`],
  ['iat 9e15', 'iat', () => `{"sub":"mallory","exp":${inAnHour()},"iat":9e15}`]
]

t.test('out-of-range exp/nbf/iat: refused with the claim named, and the process keeps serving', async t => {
  const instance = await spawnInstance(t, { WS_MESSAGE_RATE_LIMIT_PER_SECOND: '0' })
  const bystander = await Client.open(`${instance.wsUrl}?token=${token('bystander')}`, t)
  await bystander.next(m => m.status === 'connected')
  const mallory = await Client.open(`${instance.wsUrl}?token=${token('mallory')}`, t)
  await mallory.next(m => m.status === 'connected')

  for (const [what, claim, payload] of OUT_OF_RANGE) {
    const forged = signRaw(payload())
    mallory.send({ type: 'auth', token: forged })
    const answer = await mallory.next(m => m.type === 'error' || m.type === 'connection_status')
    t.match(answer, { type: 'error', code: 'invalid_token' }, `${what}: the refresh is refused`)
    t.match(answer.message, new RegExp(`the ${claim} claim must be seconds since 1970`), `${what}: the reason names ${claim}`)

    const refused = await Client.open(`${instance.wsUrl}?token=${forged}`, t)
    const closed = await refused.closed
    t.equal(closed.code, 4401, `${what}: the handshake is refused`)
    t.match(closed.reason, `the ${claim} claim`, `${what}: the close reason names ${claim}`)

    const http = await fetch(`${instance.url}/api/statistics`, { headers: { authorization: `Bearer ${forged}` } })
    t.equal(http.status, 401, `${what}: HTTP refuses it`)
  }

  // A date at the very edge is still a date.
  mallory.send({ type: 'auth', token: signRaw(`{"sub":"mallory","exp":253402300799,"iat":${now()}}`) })
  t.match(await mallory.next(m => m.type === 'error' || m.status === 'token_refreshed'),
    { status: 'token_refreshed', expires_at: '9999-12-31T23:59:59.000Z' }, 'exp at year 9999 is accepted')

  t.equal(instance.child.exitCode, null, 'the process is still running')
  t.equal((await fetch(`${instance.url}/healthz`)).status, 200, '/healthz still answers')
  await bystander.roundTrip()
  t.pass('another client is still served')
  await mallory.roundTrip()
  t.pass('the refreshing client is still served')
})
