import t from 'tap'
import { connect, startServer, token } from '../helper.js'
import { withChromium } from './browser.js'

/** The dashboard's "Online now" panel in headless Chromium (Debian's package) against the real service. */

withChromium(chromium => {
  t.test('an admin sees who is online, live; users come and go', async t => {
    const server = await startServer(t, { PRESENCE_OFFLINE_DELAY_MS: 100 })
    const page = await chromium.newPage(t)
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
    const page = await chromium.newPage(t)
    await page.goto(`${server.url}/?token=${token('viewer')}`)
    await page.locator('#status[data-status="live"]').waitFor()
    t.equal(await page.locator('#online-panel').isHidden(), true)
    await page.locator('#connections', { hasText: /^1$/ }).waitFor()
    t.equal(await page.locator('#users').textContent(), '1 user', 'the online count stays in the statistics')
  })
})
