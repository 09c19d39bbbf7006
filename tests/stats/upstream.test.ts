import t from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { UpstreamStatistics } from '../../src/stats/sources/upstream.js'
import type { Test } from '../helper.js'
import { serveUpstream, type UpstreamMode } from '../stats-upstream.js'

class RecordingLogger {
  readonly warnings: string[] = []
  readonly infos: string[] = []
  readonly objects: object[] = []
  warn (obj: object, msg: string): void { this.warnings.push(msg); this.objects.push(obj) }
  info (obj: object, msg: string): void { this.infos.push(msg); this.objects.push(obj) }
}

/** An HTTP server on port 0 answering with `handler`. */
async function serve (t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('upstream statistics are fetched, kept when the upstream fails, and marked stale', async t => {
  let healthy = true
  let requests = 0
  const upstream = createServer((_req, res) => {
    requests++
    if (!healthy) { res.writeHead(502).end(); return }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ visitors: 7 }))
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => upstream.close())
  const logger = new RecordingLogger()
  const source = new UpstreamStatistics(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/stats?key=s3cret`, { timeoutMs: 1000, maxBytes: 1024 * 1024 }, logger)
  t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: false })
  healthy = false
  t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: true })
  t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: true })
  t.equal(logger.warnings.length, 1, 'the outage is logged once')
  healthy = true
  t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: false })
  t.equal(logger.infos.length, 1, 'the recovery is logged once')
  t.equal(requests, 4)
})

t.test('an upstream that does not answer times out', async t => {
  const silent = createServer(() => {})
  silent.listen(0, '127.0.0.1')
  await once(silent, 'listening')
  t.teardown(() => { silent.closeAllConnections(); silent.close() })
  const source = new UpstreamStatistics(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, { timeoutMs: 50, maxBytes: 1024 * 1024 }, new RecordingLogger())
  t.same(await source.collect(), { upstream: null, upstream_stale: true })
})

t.test('the upstream URL is logged without its query string', async t => {
  let logged = ''
  const logger = { warn: (obj: object) => { logged = JSON.stringify(obj) }, info: () => {} }
  const source = new UpstreamStatistics('http://127.0.0.1:1/stats?api_key=s3cret', { timeoutMs: 50, maxBytes: 1024 * 1024 }, logger)
  await source.collect()
  t.match(logged, 'http://127.0.0.1:1/stats')
  t.notMatch(logged, 's3cret')
})

/** A local upstream whose answer the test switches between hostile shapes. */
async function hostileUpstream (t: Test): Promise<{ url: string, mode: (m: UpstreamMode) => void, requests: () => number }> {
  let mode: UpstreamMode = 'good'
  let requests = 0
  const server = createServer((_req, res) => {
    requests++
    serveUpstream(mode, res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats`, mode: m => { mode = m }, requests: () => requests }
}

const upstreamModes = ['deep', 'huge', 'huge-chunked', 'endless', 'garbage'] as const
for (const mode of upstreamModes) {
  t.test(`an upstream answering ${mode} is a failure of that source: stale, logged once, recovered`, async t => {
    const upstream = await hostileUpstream(t)
    const logger = new RecordingLogger()
    const source = new UpstreamStatistics(upstream.url, { timeoutMs: 300, maxBytes: 64 * 1024 }, logger)
    t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: false })
    upstream.mode(mode)
    t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: true }, 'the last good value, marked stale')
    t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: true })
    t.equal(logger.warnings.length, 1, 'the outage is logged once')
    upstream.mode('good')
    t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: false })
    t.equal(logger.infos.length, 1, 'the recovery is logged once')
  })
}

t.test('the request asks for JSON', async t => {
  let accept: string | undefined
  const url = await serve(t, (req, res) => { accept = req.headers.accept; res.end('{}') })
  await new UpstreamStatistics(url, { timeoutMs: 1000, maxBytes: 1024 }, new RecordingLogger()).collect()
  t.equal(accept, 'application/json')
})

t.test('before any good answer a failing upstream is null and stale', async t => {
  const url = await serve(t, (_req, res) => { res.writeHead(500).end() })
  t.same(await new UpstreamStatistics(url, { timeoutMs: 1000, maxBytes: 1024 }, new RecordingLogger()).collect(), { upstream: null, upstream_stale: true })
})

t.test('the warning says why: the HTTP status, the size or the deadline', async t => {
  let status = 503
  const url = await serve(t, (_req, res) => { res.writeHead(status).end(status === 200 ? JSON.stringify({ pad: 'x'.repeat(100) }) : '') })
  const logger = new RecordingLogger()
  const source = new UpstreamStatistics(url, { timeoutMs: 1000, maxBytes: 10 }, logger)
  await source.collect()
  t.match(logger.objects[0], { err: 'upstream answered HTTP 503' })
  status = 200
  const other = new RecordingLogger()
  await new UpstreamStatistics(url, { timeoutMs: 1000, maxBytes: 10 }, other).collect()
  t.match(other.objects[0], { err: /larger than 10 bytes \(STATS_UPSTREAM_MAX_BYTES\)/ })
})

t.test('a body exactly at the byte cap is accepted', async t => {
  const body = JSON.stringify({ v: 'x'.repeat(50) })
  const url = await serve(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(body) })
  const source = new UpstreamStatistics(url, { timeoutMs: 1000, maxBytes: Buffer.byteLength(body) }, new RecordingLogger())
  t.same(await source.collect(), { upstream: JSON.parse(body), upstream_stale: false })
})

t.test('JSON exactly at the depth cap is accepted and one level more is not', async t => {
  let levels = 4
  const url = await serve(t, (_req, res) => { res.end('['.repeat(levels) + ']'.repeat(levels)) })
  const source = new UpstreamStatistics(url, { timeoutMs: 1000, maxBytes: 1024, maxDepth: 4 }, new RecordingLogger())
  t.same(await source.collect(), { upstream: [[[[]]]], upstream_stale: false })
  levels = 5
  t.same(await source.collect(), { upstream: [[[[]]]], upstream_stale: true })
})

t.test('an empty body is not JSON: a failure, not a null value', async t => {
  const url = await serve(t, (_req, res) => { res.writeHead(200).end() })
  const logger = new RecordingLogger()
  t.same(await new UpstreamStatistics(url, { timeoutMs: 1000, maxBytes: 1024 }, logger).collect(), { upstream: null, upstream_stale: true })
  t.equal(logger.warnings.length, 1)
})

t.test('credentials in the URL are sent as Basic authorization, and the URL is fetched without them', async t => {
  let authorization: string | undefined
  let path: string | undefined
  const url = await serve(t, (req, res) => { authorization = req.headers.authorization; path = req.url; res.end('{"ok":true}') })
  const withUser = url.replace('http://', 'http://us%40er:p%3As@')
  const source = new UpstreamStatistics(`${withUser}/stats?k=1`, { timeoutMs: 1000, maxBytes: 1024 }, new RecordingLogger())
  t.same(await source.collect(), { upstream: { ok: true }, upstream_stale: false })
  t.equal(authorization, 'Basic ' + Buffer.from('us@er:p:s').toString('base64'), 'decoded before encoding')
  t.equal(path, '/stats?k=1')
})

t.test('credentials and the query of the upstream URL are never logged', async t => {
  const logger = new RecordingLogger()
  const source = new UpstreamStatistics('http://user:p4ssw0rd@127.0.0.1:1/stats?token=s3cret#frag', { timeoutMs: 50, maxBytes: 1024 }, logger)
  await source.collect()
  const logged = JSON.stringify(logger.objects)
  t.match(logged, '"url":"http://127.0.0.1:1/stats"')
  t.notMatch(logged, 'p4ssw0rd')
  t.notMatch(logged, 's3cret')
})

t.test('an invalid URL is refused when the source is built', async t => {
  t.throws(() => new UpstreamStatistics('not a url', { timeoutMs: 50, maxBytes: 1024 }, new RecordingLogger()), TypeError)
})
