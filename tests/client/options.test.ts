import t from 'tap'
import { DEFAULT_TIMINGS, resolveOptions, type ConnectOptions } from '../../src/client/options.js'

t.test('defaults: the production timings, the global WebSocket and fetch, resume on', async t => {
  const getToken = (): string => 't'
  const resolved = resolveOptions({ url: 'http://x', getToken })
  t.same(resolved.timings, DEFAULT_TIMINGS)
  t.equal(resolved.token, undefined)
  t.equal(resolved.getToken, getToken)
  t.equal(resolved.WebSocket, (globalThis as { WebSocket?: unknown }).WebSocket ?? null)
  t.type(resolved.fetch, 'function')
  t.equal(resolved.random, Math.random)
  t.equal(resolved.resume, true)
  t.same(resolved.urls, { ws: 'ws://x/api/ws/statistics', poll: 'http://x/api/statistics' })
})

t.test('given options win; WebSocket null means poll only', async t => {
  const random = (): number => 0.5
  const resolved = resolveOptions({ url: 'http://x', token: 'a', WebSocket: null, random, resume: false, pingIntervalMs: 0, backoffMaxMs: 5 })
  t.equal(resolved.WebSocket, null)
  t.equal(resolved.random, random)
  t.equal(resolved.resume, false)
  t.equal(resolved.timings.pingIntervalMs, 0)
  t.equal(resolved.timings.backoffMaxMs, 5)
  t.equal(resolved.timings.pollIntervalMs, DEFAULT_TIMINGS.pollIntervalMs)
})

t.test('refuses what it cannot work with, naming the option', async t => {
  t.throws(() => resolveOptions(null as unknown as ConnectOptions), /pass an options object/)
  t.throws(() => resolveOptions({ url: 'http://x' }), /pass options.token .* or options.getToken/)
  for (const bad of [-1, Number.NaN, Infinity, '5' as unknown as number]) {
    t.throws(() => resolveOptions({ url: 'http://x', token: 'a', pollTimeoutMs: bad }), /pollTimeoutMs must be a number of milliseconds >= 0/, String(bad))
  }
})
