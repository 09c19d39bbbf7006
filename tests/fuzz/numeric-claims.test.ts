import t from 'tap'
import fc from 'fast-check'
import { MAX_CLAIM_SECONDS } from '../../src/auth/claims.js'
import { Client, connect, startServer, token } from '../helper.js'
import { signRaw } from '../hand-signed.js'

// Tokens with any numeric exp/nbf/iat, written as raw JSON so that 1e309
// (Infinity once parsed), -0, 5e-324 and 30-digit integers reach the
// service as a client would send them. Whatever the numbers, the service
// answers (refreshed, or refused with a reason) and keeps serving.

const nowSeconds = Math.floor(Date.now() / 1000)
const numberText = fc.oneof(
  fc.double({ noNaN: true }).map(n => Number.isFinite(n) ? String(n) : (n > 0 ? '1e309' : '-1e309')),
  fc.constantFrom('1e309', '-1e309', '9e15', '-9e15', String(MAX_CLAIM_SECONDS), String(MAX_CLAIM_SECONDS + 1), '-0', '0', '5e-324', '-1', '0.5', '1E3'),
  fc.integer({ min: nowSeconds - 1_000_000, max: nowSeconds + 100_000_000 }).map(String),
  fc.double({ min: nowSeconds - 100_000, max: nowSeconds + 10_000_000, noNaN: true }).map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String)
)
const claims = fc.record({ exp: numberText, nbf: numberText, iat: numberText }, { requiredKeys: [] })

function payloadOf (numbers: { exp?: string, nbf?: string, iat?: string }): string {
  const fields = Object.entries(numbers).map(([claim, text]) => `,"${claim}":${text}`).join('')
  return `{"sub":"fuzz"${fields}}`
}

function inRange (text: string | undefined): boolean {
  if (text === undefined) return true
  const value = Number(JSON.parse(text))
  return Number.isFinite(value) && value >= 0 && value <= MAX_CLAIM_SECONDS
}

const CONFIG = {
  WS_MESSAGE_RATE_LIMIT: 0,
  WS_CONNECT_RATE_LIMIT: 0,
  RATE_LIMIT_MAX: 0,
  // A wide tolerance: a refresh accepted near its expiry is not closed
  // while the property runs.
  JWT_CLOCK_SKEW_MS: 600_000,
  TOKEN_REFRESH_WARNING_MS: 0
}

t.test('auth refreshes with any numeric exp/nbf/iat always get a defined answer', async t => {
  const server = await startServer(t, CONFIG)
  const live = await connect(server, t, 'fuzz')
  const seen = { refreshed: 0, refused: 0 }
  await fc.assert(fc.asyncProperty(claims, async numbers => {
    live.send({ type: 'auth', token: signRaw(payloadOf(numbers)) })
    const answer = await live.next(m => m.type === 'error' || m.status === 'token_refreshed')
    if (answer.type === 'error') {
      if (answer.code !== 'invalid_token' || !/^token refused \(.+\)/.test(String(answer.message))) throw new Error(`unexpected error ${JSON.stringify(answer)}`)
      seen.refused++
      return
    }
    seen.refreshed++
    if (!(inRange(numbers.exp) && inRange(numbers.nbf) && inRange(numbers.iat))) {
      throw new Error(`accepted out-of-range claims ${payloadOf(numbers)}`)
    }
    const expected = numbers.exp === undefined ? null : new Date(Number(JSON.parse(numbers.exp)) * 1000).toISOString()
    if (answer.expires_at !== expected) throw new Error(`expires_at ${String(answer.expires_at)}, expected ${String(expected)}`)
    // Back to an ordinary token before the next run.
    live.send({ type: 'auth', token: token('fuzz') })
    await live.next(m => m.status === 'token_refreshed')
  }), { numRuns: 300 })
  t.ok(seen.refreshed > 0 && seen.refused > 0, `both outcomes were exercised (${seen.refreshed} refreshed, ${seen.refused} refused)`)
  await live.roundTrip()
  t.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the service still answers')
})

t.test('handshakes with any numeric exp/nbf/iat are admitted or refused with 4401 and a reason', async t => {
  const server = await startServer(t, CONFIG)
  const bystander = await connect(server, t, 'bystander')
  const seen = { admitted: 0, refused: 0 }
  await fc.assert(fc.asyncProperty(claims, async numbers => {
    const client = new Client(`${server.wsUrl}?token=${signRaw(payloadOf(numbers))}`)
    try {
      // A refused handshake is closed before any message arrives.
      const first = await client.next().catch(() => null)
      if (first === null) {
        const closed = await client.closed
        if (closed.code !== 4401 || closed.reason === '') throw new Error(`closed with ${closed.code} ${JSON.stringify(closed.reason)}`)
        seen.refused++
        return
      }
      if (first.status !== 'connected') throw new Error(`unexpected first message ${JSON.stringify(first)}`)
      if (!(inRange(numbers.exp) && inRange(numbers.nbf) && inRange(numbers.iat))) {
        throw new Error(`admitted out-of-range claims ${payloadOf(numbers)}`)
      }
      seen.admitted++
    } finally {
      client.ws.terminate()
    }
  }), { numRuns: 100 })
  t.ok(seen.admitted > 0 && seen.refused > 0, `both outcomes were exercised (${seen.admitted} admitted, ${seen.refused} refused)`)
  await bystander.roundTrip()
  t.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the service still answers')
})
