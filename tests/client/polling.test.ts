import http from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { Poller, type PollHandlers, type PollTimings } from '../../src/client/polling.js'
import type { StatisticsUpdateMessage } from '../../src/protocol/messages.js'
import type { Test } from '../helper.js'

const FAST: PollTimings = { pollIntervalMs: 5, pollTimeoutMs: 30_000 }

type Answer = (request: http.IncomingMessage, response: http.ServerResponse) => void

/** A real HTTP server on port 0 that answers the n-th request with answers[n] (the last one after that). */
async function serve (t: Test, ...answers: Answer[]): Promise<{ url: string, requests: http.IncomingMessage[], nextRequest: () => Promise<http.IncomingMessage> }> {
  const requests: http.IncomingMessage[] = []
  const server = http.createServer((request, response) => {
    requests.push(request)
    answers[Math.min(requests.length - 1, answers.length - 1)](request, response)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/statistics`,
    requests,
    nextRequest: async () => (await once(server, 'request'))[0] as http.IncomingMessage
  }
}

function json (status: number, body: unknown): Answer {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' })
    response.end(JSON.stringify(body))
  }
}

/** Handlers that record each report as a line, resolving `until(n)` once n lines are in. */
function recorder (token = 'tok'): PollHandlers & { log: string[], updates: StatisticsUpdateMessage[], until: (n: number) => Promise<void> } {
  const log: string[] = []
  const updates: StatisticsUpdateMessage[] = []
  const waiting: Array<[number, () => void]> = []
  const add = (line: string): void => {
    log.push(line)
    for (const [n, resolve] of waiting) if (log.length >= n) resolve()
  }
  return {
    log,
    updates,
    until: async n => { if (log.length < n) await new Promise<void>(resolve => waiting.push([n, resolve])) },
    token: () => token,
    onStart: () => { add('start') },
    onStatistics: message => { updates.push(message); add('statistics') },
    onRefused: async reason => { add(`refused: ${reason}`) },
    onFailure: reason => { add(`failure: ${reason}`) },
    onUnavailable: reason => { add(`unavailable: ${reason}`) }
  }
}

function poller (t: Test, url: string, handlers: PollHandlers, options: { fetch?: typeof globalThis.fetch, timings?: PollTimings } = {}): Poller {
  const fetch = 'fetch' in options ? options.fetch : globalThis.fetch
  const timings = options.timings ?? FAST
  const p = new Poller(url, fetch, timings, handlers)
  t.teardown(() => { p.stop() })
  return p
}

t.test('polls at once and then every interval with the bearer token, passing statistics on as statistics_update', async t => {
  const server = await serve(t, json(200, { timestamp: '2024-05-01T10:00:00.000Z', data: { events_total: 3 } }))
  const handlers = recorder('abc')
  const p = poller(t, server.url, handlers)
  p.start()
  p.start()
  t.equal(p.active, true)
  await handlers.until(3)
  p.stop()
  t.same(handlers.log.slice(0, 3), ['start', 'statistics', 'statistics'], 'start() while active is a no-op')
  t.same(handlers.updates[0], { type: 'statistics_update', timestamp: '2024-05-01T10:00:00.000Z', data: { events_total: 3 } })
  t.equal(server.requests[0].headers.authorization, 'Bearer abc')
})

t.test('HTTP 401: onRefused with the service\'s words, and polling goes on', async t => {
  const server = await serve(t, json(401, { message: 'token expired' }), json(401, {}), json(200, { data: {} }))
  const handlers = recorder()
  poller(t, server.url, handlers).start()
  await handlers.until(4)
  t.same(handlers.log.slice(0, 4), ['start', 'refused: token expired', 'refused: token refused (HTTP 401)', 'statistics'])
})

t.test('an HTTP error or a body without data is a failure with the status and message; the next success recovers', async t => {
  const server = await serve(t, json(503, { message: 'draining' }), json(200, { nothing: true }), (_request, response) => { response.end('not json') }, json(200, { data: {} }))
  const handlers = recorder()
  poller(t, server.url, handlers).start()
  await handlers.until(5)
  t.same(handlers.log.slice(0, 5), [
    'start',
    'failure: polling /api/statistics failed: HTTP 503 draining',
    'failure: polling /api/statistics failed: HTTP 200',
    'failure: polling /api/statistics failed: HTTP 200',
    'statistics'
  ])
})

t.test('a request slower than pollTimeoutMs is aborted and reported as timed out', async t => {
  const server = await serve(t, () => {})
  const handlers = recorder()
  poller(t, server.url, handlers, { timings: { pollIntervalMs: 5, pollTimeoutMs: 20 } }).start()
  await handlers.until(3)
  t.same(handlers.log.slice(0, 3), ['start', 'failure: the service is unreachable: the request timed out', 'failure: the service is unreachable: the request timed out'], 'and the next poll still comes')
})

t.test('an unreachable service is a failure that says so', async t => {
  // A port that was just free: nothing listens there now.
  const closed = http.createServer().listen(0, '127.0.0.1')
  await once(closed, 'listening')
  const { port } = closed.address() as AddressInfo
  await new Promise(resolve => closed.close(resolve))
  const handlers = recorder()
  poller(t, `http://127.0.0.1:${port}/api/statistics`, handlers).start()
  await handlers.until(2)
  t.equal(handlers.log[0], 'start')
  t.match(handlers.log[1], /^failure: the service is unreachable: /)
  t.notMatch(handlers.log[1], /timed out/)
})

t.test('stop() aborts the request in flight and ends the loop without a report', async t => {
  const server = await serve(t, () => {})
  const handlers = recorder()
  const p = poller(t, server.url, handlers)
  const arrived = server.nextRequest()
  p.start()
  const request = await arrived
  // The abort resets the connection: 'close' comes after an 'error'.
  request.on('error', () => {})
  const aborted = new Promise(resolve => request.on('close', resolve))
  p.stop()
  t.equal(p.active, false)
  await aborted
  t.same(handlers.log, ['start'])
})

t.test('without fetch, polling is unavailable and stops', async t => {
  const handlers = recorder()
  const p = poller(t, 'http://127.0.0.1:1/api/statistics', handlers, { fetch: undefined })
  p.start()
  t.same(handlers.log, ['start', 'unavailable: neither WebSocket nor fetch is available here'])
  t.equal(p.active, false)
})
