import { existsSync } from 'node:fs'
import t from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import { connect, startServer, token } from '../helper.js'

/** The dashboard's "Online now" panel in headless Chromium (Debian's package) against the real service. */

const CHROMIUM = '/usr/bin/chromium'

async function openPage (t: { teardown (fn: () => unknown): void, fail (message: string): unknown }, browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  t.teardown(async () => { await context.close() })
  const page = await context.newPage()
  page.on('pageerror', err => { t.fail(`script error in the page: ${err.message}`) })
  page.on('console', message => {
    if (/Content Security Policy|Refused to/i.test(message.text())) t.fail(`policy violation: ${message.text()}`)
  })
  return page
}

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

  t.test('an admin sees who is online, live; users come and go', async t => {
    const server = await startServer(t, { PRESENCE_OFFLINE_DELAY_MS: 100 })
    const page = await openPage(t, browser)
    await page.goto(`${server.url}/?token=${token('root', { roles: ['admin'] })}`)
    await page.locator('#online-panel').waitFor({ state: 'visible' })
    await page.locator('#online-count', { hasText: /^1$/ }).waitFor()
    t.equal(await page.locator('#online-list .online-user').getAttribute('data-user-id'), 'root')

    const bob = await connect(server, t, 'bob')
    await page.locator('#online-count', { hasText: /^2$/ }).waitFor()
    t.match(await page.locator('#online-list .online-user[data-user-id="bob"]').textContent(), /^bob since /)

    bob.ws.close()
    await page.locator('#online-count', { hasText: /^1$/ }).waitFor()
    t.equal(await page.locator('#online-list .online-user[data-user-id="bob"]').count(), 0, 'bob left the list')
  })

  t.test('without the admin role the panel stays hidden', async t => {
    const server = await startServer(t)
    const page = await openPage(t, browser)
    await page.goto(`${server.url}/?token=${token('viewer')}`)
    await page.locator('#status[data-status="live"]').waitFor()
    t.equal(await page.locator('#online-panel').isHidden(), true)
    await page.locator('#connections', { hasText: /^1$/ }).waitFor()
    t.equal(await page.locator('#users').textContent(), '1 user', 'the online count stays in the statistics')
  })
}
