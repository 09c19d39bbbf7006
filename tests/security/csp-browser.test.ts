import type { AddressInfo } from 'node:net'
import t from 'tap'
import { chromium } from 'playwright-core'
import { buildApp } from '../../src/app.js'
import { testConfig, token } from '../helper.js'

/**
 * The CSP in a real browser: a page like the dashboard (same-origin script,
 * WebSocket to its own host) works, and inline script is blocked.
 */
t.test('in Chromium the CSP allows same-origin script and the WebSocket, and blocks inline script', async t => {
  const app = await buildApp(testConfig(), { logger: false })
  t.teardown(async () => { await app.close() })
  const tokenForPage = token('alice')
  app.get('/csp-probe', async (_request, reply) => await reply.type('text/html').send(
    '<!doctype html><html><head><script src="/csp-probe.js"></script>' +
    '<script>window.inlineRan = true</script></head><body></body></html>'
  ))
  app.get('/csp-probe.js', async (_request, reply) => await reply.type('text/javascript').send(`
    window.violations = []
    document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective))
    window.first = new Promise(resolve => {
      const ws = new WebSocket('ws://' + location.host + '/api/ws/statistics?token=${tokenForPage}')
      ws.onmessage = m => { resolve(JSON.parse(m.data)); ws.close() }
      ws.onerror = () => resolve({ error: true })
    })
  `))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] })
  t.teardown(async () => { await browser.close() })
  const page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${port}/csp-probe`)
  const first = await page.evaluate(async () => await (window as unknown as { first: Promise<Record<string, unknown>> }).first)
  t.equal(first.status, 'connected', 'the same-origin script ran and its WebSocket connected')
  t.equal(await page.evaluate(() => (window as unknown as { inlineRan?: boolean }).inlineRan), undefined, 'inline script was blocked')
  await page.waitForFunction(() => (window as unknown as { violations: string[] }).violations.length > 0)
  t.match(await page.evaluate(() => (window as unknown as { violations: string[] }).violations), [/^script-src/], 'the browser reported the blocked inline script')
})
