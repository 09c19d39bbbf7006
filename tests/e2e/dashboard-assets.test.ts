import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { startServer } from '../helper.js'

t.test('/ serves the page with no inline script or style, ready for a strict CSP', async t => {
  const server = await startServer(t)
  const response = await fetch(`${server.url}/`)
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^text\/html/)
  const html = await response.text()
  t.match(html, /<script type="module" src="\/assets\/dashboard.js"><\/script>/)
  t.notMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline <script>')
  t.notMatch(html, /\sstyle=/, 'no style attributes')
  t.notMatch(html, /<style/, 'no <style> elements')
  t.notMatch(html, /\son[a-z]+=/, 'no inline event handlers')
  t.notMatch(html, /https?:\/\//, 'nothing loaded from elsewhere')
})

t.test('assets: types, revalidation with ETag, and a clear 404', async t => {
  const server = await startServer(t)
  for (const [path, type] of [['/assets/dashboard.js', /^text\/javascript/], ['/assets/dashboard.css', /^text\/css/], ['/assets/icon.svg', /^image\/svg\+xml/]] as const) {
    const response = await fetch(server.url + path)
    t.equal(response.status, 200, path)
    t.match(response.headers.get('content-type'), type, path)
    t.equal(response.headers.get('cache-control'), 'no-cache')
    const etag = response.headers.get('etag') ?? ''
    const again = await fetch(server.url + path, { headers: { 'if-none-match': etag } })
    t.equal(again.status, 304, `${path} revalidates`)
  }
  const missing = await fetch(`${server.url}/assets/nope.js`)
  t.equal(missing.status, 404)
  t.match((await missing.json()).message, /no dashboard file assets\/nope.js; the page is at \//)
})

t.test('the client module is self-contained ESM that other origins may import', async t => {
  const server = await startServer(t)
  const response = await fetch(`${server.url}/assets/statistics-client.js`)
  t.equal(response.status, 200)
  t.equal(response.headers.get('access-control-allow-origin'), '*')
  const source = await response.text()
  t.notMatch(source, /\bfrom\s*["'][^./]/, 'no bare imports left to resolve')
  const dir = await mkdtemp(join(tmpdir(), 'statistics-client-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'statistics-client.mjs')
  await writeFile(file, source)
  const module = await import(pathToFileURL(file).href) as Record<string, unknown>
  t.type(module.connect, 'function')
  t.type(module.StatisticsClient, 'function')
  t.same(module.DEFAULT_TIMINGS, {
    backoffBaseMs: 1000, backoffMaxMs: 30_000, stableAfterMs: 10_000, restartJitterMs: 5000, pingIntervalMs: 30_000,
    pongTimeoutMs: 10_000, connectTimeoutMs: 10_000, pollIntervalMs: 5000, pollTimeoutMs: 5000, failuresBeforePolling: 3
  })
})
