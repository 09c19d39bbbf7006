import t from 'tap'
import type { Page } from 'playwright-core'
import { publishEvent, startServer, token, type Server } from '../helper.js'
import { WebSocketGate } from '../client/websocket-gate.js'
import { STRICT_CSP, withChromium, type TestLike } from './browser.js'

/**
 * The dashboard's alerts panel in headless Chromium (Debian's package)
 * against the real service, behind a real proxy that can take the WebSocket
 * away while HTTP keeps working.
 */

async function setUp (t: TestLike): Promise<{ server: Server, gate: WebSocketGate }> {
  const server = await startServer(t, { STATS_INTERVAL_MS: 100, RATE_LIMIT_MAX: 0 })
  const gate = await WebSocketGate.start(server.url, t, { 'content-security-policy': STRICT_CSP })
  return { server, gate }
}

async function publishAlert (server: Server, level: string, message: string): Promise<void> {
  const response = await fetch(`${server.url}/api/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token('gateway', { roles: ['publisher'] })}` },
    body: JSON.stringify({ level, message, data: { camera_id: 'server-room' } })
  })
  if (response.status !== 202) throw new Error(`POST /api/alerts answered ${response.status}: ${await response.text()}`)
}

const alertItems = (page: Page) => page.locator('#alerts .alert-item')
const badgeCount = (page: Page, count: number) => page.locator(`#alerts-badge[data-count="${count}"]`)

withChromium(chromium => {
  const openPage = async (t: TestLike, url: string): Promise<Page> => await chromium.openDashboard(t, url, { fastClient: true })

  t.test('alerts stay, newest first, with their level; critical ones stand out; dismissing lowers the badge', async t => {
    const { server, gate } = await setUp(t)
    const page = await openPage(t, `${gate.url}/?token=${token('viewer')}`)
    t.equal(await page.locator('#alerts-badge').textContent(), '0')
    t.equal(await page.locator('#alerts-empty').isVisible(), true, 'the empty state says what the panel is for')

    await publishAlert(server, 'warning', 'Disk almost full')
    await publishAlert(server, 'critical', 'Camera server-room stopped sending frames')
    await badgeCount(page, 2).waitFor()
    t.same(await alertItems(page).evaluateAll(items => items.map(item => (item as HTMLElement).dataset.level)), ['critical', 'warning'], 'newest first')
    t.match(await alertItems(page).first().textContent(), /critical.*stopped sending frames/)
    t.equal(await page.locator('#alerts .alert-item.alert-critical').count(), 1, 'only the critical one has the distinct class')
    t.equal(await page.locator('#alerts-empty').isVisible(), false)

    // Later events scroll the feed, not the panel.
    for (let i = 0; i < 5; i++) await publishEvent(server, { camera_id: `cam-${i}`, event_type: 'motion_detected' })
    await page.locator('#feed .feed-item', { hasText: 'cam-4' }).waitFor()
    t.equal(await alertItems(page).count(), 2)

    await page.locator('#alerts .alert-item[data-level="critical"] .alert-dismiss').click()
    await badgeCount(page, 1).waitFor()
    t.same(await alertItems(page).evaluateAll(items => items.map(item => (item as HTMLElement).dataset.level)), ['warning'])

    await publishAlert(server, 'info', 'Nightly backup done')
    await badgeCount(page, 2).waitFor()
    await page.locator('#alerts-dismiss-all').click()
    await badgeCount(page, 0).waitFor()
    t.equal(await alertItems(page).count(), 0)
    t.equal(await page.locator('#alerts-empty').isVisible(), true)
  })

  t.test('after a dropped connection the undismissed alerts stay, and one published meanwhile appears once', async t => {
    const { server, gate } = await setUp(t)
    const page = await openPage(t, `${gate.url}/?token=${token('viewer')}`)
    await publishAlert(server, 'warning', 'Before the cut')
    await badgeCount(page, 1).waitFor()

    gate.block()
    await page.locator('#status:not([data-status="live"])').waitFor()
    await publishAlert(server, 'critical', 'While disconnected')
    gate.unblock()
    await page.locator('#status[data-status="live"]').waitFor()
    await badgeCount(page, 2).waitFor()
    // A live alert after the replay: once it is shown, the replay is over.
    await publishAlert(server, 'info', 'After the reconnect')
    await badgeCount(page, 3).waitFor()
    t.same(await page.locator('#alerts .alert-what').allTextContents(), ['infoAfter the reconnect', 'criticalWhile disconnected', 'warningBefore the cut'], 'each alert once, newest first')
  })

  t.test('the sound is off by default, and the switch is remembered across a reload', async t => {
    const { server, gate } = await setUp(t)
    const page = await openPage(t, `${gate.url}/?token=${token('viewer')}`)
    const sound = page.locator('#alerts-sound')
    t.equal(await sound.getAttribute('aria-pressed'), 'false', 'off by default')
    t.equal(await page.evaluate(() => localStorage.getItem('dashboard.alert-sound')), null)

    await sound.click()
    t.equal(await sound.getAttribute('aria-pressed'), 'true')
    t.equal(await page.evaluate(() => localStorage.getItem('dashboard.alert-sound')), 'on')
    // A critical alert with the sound on beeps (WebAudio); any script error fails the test.
    await publishAlert(server, 'critical', 'Beep')
    await badgeCount(page, 1).waitFor()

    await page.reload()
    await page.locator('#status[data-status="live"]').waitFor()
    t.equal(await sound.getAttribute('aria-pressed'), 'true', 'still on after a reload')
    await sound.click()
    await page.reload()
    await page.locator('#status[data-status="live"]').waitFor()
    t.equal(await sound.getAttribute('aria-pressed'), 'false', 'muted again after a reload')
  })
})
