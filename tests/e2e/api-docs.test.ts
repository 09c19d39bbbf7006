import { existsSync } from 'node:fs'
import t from 'tap'
import { chromium, type Browser } from 'playwright-core'
import { startServer } from '../helper.js'

/**
 * Swagger UI at /docs in headless Chromium (Debian's package), straight
 * from the service: its own strict Content-Security-Policy applies, and
 * the page must run under it with files from this host only.
 */

const CHROMIUM = '/usr/bin/chromium'

if (!existsSync(CHROMIUM)) {
  const message = `headless Chromium not found at ${CHROMIUM}: install it with \`apt-get install chromium\` to run the browser tests`
  if (process.env.CI === 'true') t.fail(message)
  else t.plan(0, `skipped: ${message}`)
} else {
  let browser: Browser
  t.before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic'] })
  })
  t.teardown(async () => { await browser?.close() })

  t.test('/docs lists the operations under the service\'s CSP, loading nothing from other hosts', async t => {
    const server = await startServer(t)
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    t.teardown(async () => { await context.close() })
    const page = await context.newPage()
    const foreign: string[] = []
    page.on('pageerror', err => { t.fail(`script error in the page: ${err.message}`) })
    page.on('console', message => {
      if (/Content Security Policy|Refused to/i.test(message.text())) t.fail(`policy violation: ${message.text()}`)
    })
    page.on('request', request => {
      if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) foreign.push(request.url())
    })
    // Violations that never reach the console are caught where they happen.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', event => {
        console.error(`Refused to load: ${event.violatedDirective} ${event.blockedURI}`)
      })
    })
    const response = await page.goto(`${server.url}/docs`)
    t.match(response?.headers()['content-security-policy'], /script-src 'self';.*style-src 'self';/, 'the page has the strict CSP')

    await page.locator('.opblock-summary-path', { hasText: '/api/events' }).first().waitFor()
    const paths = await page.locator('.opblock-summary-path').allTextContents()
    for (const path of ['/api/events', '/api/alerts', '/api/statistics', '/api/ws/status', '/healthz']) {
      t.ok(paths.some(text => text.replace(/\u200b/g, '') === path), `${path} is listed`)
    }
    t.ok(await page.locator('.opblock-tag', { hasText: 'publish' }).count() > 0, 'operations are grouped by tag')
    t.ok(await page.locator('.auth-wrapper .authorize').count() > 0, 'the bearer token can be entered')

    // Opening an operation renders its request body and error replies.
    await page.locator('.opblock-summary', { hasText: '/api/events' }).first().click()
    await page.locator('.responses-table .response[data-code="401"]').first().waitFor()
    t.same(foreign, [], 'nothing was fetched from another host')
  })
}
