import t from 'tap'
import { startServer } from '../helper.js'
import { withChromium } from './browser.js'

/**
 * Swagger UI at /docs in headless Chromium (Debian's package), straight
 * from the service: its own strict Content-Security-Policy applies, and
 * the page must run under it with files from this host only.
 */

withChromium(chromium => {
  t.test('/docs lists the operations under the service\'s CSP, loading nothing from other hosts', async t => {
    const server = await startServer(t)
    const page = await chromium.newPage(t)
    const foreign: string[] = []
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
})
