import t from 'tap'
import { closeAction, MAX_RESTART_DELAY_MS, Reconnector, type ReconnectTimings } from '../../src/client/reconnect.js'
import type { Test } from '../helper.js'

const TIMINGS: ReconnectTimings = { backoffBaseMs: 100, backoffMaxMs: 400, stableAfterMs: 60_000, restartJitterMs: 50, failuresBeforePolling: 3 }

/** A Reconnector whose jitter draws `draw` and whose attempts are counted; its timers go with the test. */
function reconnector (t: Test, timings: Partial<ReconnectTimings> = {}, draw = 0.999): { r: Reconnector, attempts: () => number, attempted: () => Promise<void> } {
  let attempts = 0
  const waiting: Array<() => void> = []
  const r = new Reconnector({ ...TIMINGS, ...timings }, () => draw, () => {
    attempts++
    for (const resolve of waiting.splice(0)) resolve()
  })
  t.teardown(() => {
    r.cancel()
    r.disconnected()
  })
  return { r, attempts: () => attempts, attempted: async () => { await new Promise<void>(resolve => waiting.push(resolve)) } }
}

/** The delay of the attempt just scheduled, from nextAttemptAt. */
function scheduledDelay (r: Reconnector, before: number, after: number): [number, number] {
  const at = r.nextAttemptAt
  if (at === null) throw new Error('no attempt scheduled')
  return [at - after, at - before]
}

t.test('close codes: 4401 asks for a new token, 1008 and 4403 stop, everything else retries', async t => {
  t.equal(closeAction(4401), 'refresh-token')
  t.equal(closeAction(1008), 'stop')
  t.equal(closeAction(4403), 'stop')
  for (const code of [1000, 1001, 1006, 1011, 1012, 1013, 4000]) t.equal(closeAction(code), 'retry', `${code}`)
})

t.test('retries after the backoff, which grows per attempt, and opens the next socket when it is due', async t => {
  const { r, attempts, attempted } = reconnector(t, { backoffBaseMs: 10 })
  t.equal(r.nextAttemptAt, null)
  let before = Date.now()
  r.retry(1006, false)
  let [low, high] = scheduledDelay(r, before, Date.now())
  t.ok(low <= 9 && high >= 9, 'first delay: 0.999 of the 10 ms ceiling')
  t.equal(r.backoffAttempt, 1)
  await attempted()
  t.equal(attempts(), 1)
  before = Date.now()
  r.retry(1006, false)
  ;[low, high] = scheduledDelay(r, before, Date.now())
  t.ok(low <= 19 && high >= 19, 'second delay: 0.999 of the 20 ms ceiling')
})

t.test('1001, 1012 and 1013 retry within the restart jitter, leaving the backoff as it was', async t => {
  for (const code of [1001, 1012, 1013]) {
    const { r } = reconnector(t, {}, 0.5)
    const before = Date.now()
    r.retry(code, true)
    const [low, high] = scheduledDelay(r, before, Date.now())
    t.ok(low <= 25 && high >= 25, `${code}: half of the 50 ms jitter`)
    t.equal(r.backoffAttempt, 0)
  }
})

t.test('a server_restart notice sets the next delay once, capped at 10 minutes; nonsense is ignored', async t => {
  const { r } = reconnector(t)
  let before = Date.now()
  r.restartNotice(5000)
  r.retry(1012, true)
  let [low, high] = scheduledDelay(r, before, Date.now())
  t.ok(low <= 5000 && high >= 5000, 'the delay the service asked for')
  before = Date.now()
  r.retry(1006, true)
  ;[low, high] = scheduledDelay(r, before, Date.now())
  t.ok(high < 1000, 'the notice is used once; then the backoff again')

  before = Date.now()
  r.restartNotice(1e12)
  r.retry(1006, true)
  ;[low, high] = scheduledDelay(r, before, Date.now())
  t.ok(low <= MAX_RESTART_DELAY_MS && high >= MAX_RESTART_DELAY_MS, 'capped')

  for (const nonsense of [-1, Number.NaN, Infinity, '5000', null]) {
    before = Date.now()
    r.restartNotice(nonsense)
    r.retry(1006, true)
    ;[low, high] = scheduledDelay(r, before, Date.now())
    t.ok(high < 1000, `${String(nonsense)} is ignored`)
  }
})

t.test('failing after failuresBeforePolling attempts that never went live; a live connection forgives them', async t => {
  const { r } = reconnector(t)
  r.retry(1006, false)
  r.retry(1006, true)
  r.retry(1006, false)
  t.equal(r.failing, false, 'a connection that was live is no failure')
  r.retry(1006, false)
  t.equal(r.failing, true)
  r.connected()
  t.equal(r.failing, false)
})

t.test('connected() clears a pending restart notice', async t => {
  const { r } = reconnector(t)
  r.restartNotice(60_000)
  r.connected()
  const before = Date.now()
  r.retry(1006, true)
  t.ok(scheduledDelay(r, before, Date.now())[1] < 1000)
})

t.test('a connection that stays up stableAfterMs resets the backoff; one that drops first does not', async t => {
  const dropped = reconnector(t)
  dropped.r.retry(1006, false)
  dropped.r.retry(1006, false)
  dropped.r.connected()
  dropped.r.disconnected()
  t.equal(dropped.r.backoffAttempt, 2)

  const stable = reconnector(t, { stableAfterMs: 0 })
  stable.r.retry(1006, false)
  stable.r.retry(1006, false)
  stable.r.connected()
  while (stable.r.backoffAttempt !== 0) await new Promise(resolve => setTimeout(resolve, 1))
  t.equal(stable.r.backoffAttempt, 0)
})

t.test('cancel() forgets the scheduled attempt', async t => {
  const { r } = reconnector(t)
  r.retry(1006, false)
  t.not(r.nextAttemptAt, null)
  r.cancel()
  t.equal(r.nextAttemptAt, null)
})
