import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { Page } from 'playwright-core'
import { publishEvent, startServer, token, type Server } from '../helper.js'
import { WebSocketGate } from '../client/websocket-gate.js'
import { STRICT_CSP, withChromium, type TestLike } from './browser.js'

/**
 * The dashboard in headless Chromium (Debian's package, never a downloaded
 * browser) against the real service, behind a real proxy that can take the
 * WebSocket endpoint away while HTTP keeps working.
 */

const OUTPUT = join(import.meta.dirname, 'output')

interface Setup { server: Server, gate: WebSocketGate }

async function setUp (t: TestLike, overrides: Parameters<typeof startServer>[1] = {}): Promise<Setup> {
  const server = await startServer(t, { STATS_INTERVAL_MS: 100, RATE_LIMIT_MAX: 0, ...overrides })
  const gate = await WebSocketGate.start(server.url, t, { 'content-security-policy': STRICT_CSP })
  return { server, gate }
}

const badge = (page: Page, status: string) => page.locator(`#status[data-status="${status}"]`)

withChromium(chromium => {
  mkdirSync(OUTPUT, { recursive: true })

  t.test('loads, goes Live, shows a posted camera event within a second, and counts it', async t => {
    const { server, gate } = await setUp(t)
    const page = await chromium.newPage(t)
    await page.goto(`${gate.url}/?token=${token('viewer')}`)
    await badge(page, 'live').waitFor()
    t.equal(await page.locator('#status').textContent(), 'Live')
    t.notMatch(page.url(), /token=/, 'the token left the address bar')
    t.ok(await page.evaluate(() => sessionStorage.getItem('statistics-dashboard.token')), 'and is kept in sessionStorage')
    t.equal(await page.locator('#last-update').textContent() === 'never', false, 'the last update time is shown')

    const response = await publishEvent(server, { camera_id: 'lobby-entrance', event_type: 'face_recognized', data: { person_name: 'Ada Lovelace', confidence: 0.97 } })
    t.equal(response.status, 202)
    const item = page.locator('#feed .feed-item', { hasText: 'Ada Lovelace' })
    await item.waitFor({ timeout: 1000 })
    t.match(await item.textContent(), /Face recognized: Ada Lovelace.*lobby-entrance · 97% confidence/)

    await page.locator('#events-today', { hasText: /^1$/ }).waitFor()
    t.equal(await page.locator('#recognitions-today').textContent(), '1')
    t.equal(await page.locator('#last-person').textContent(), 'Ada Lovelace')
    t.match(await page.locator('#last-where').textContent(), /^lobby-entrance · /)
    t.equal(await page.locator('#active-cameras').textContent(), '1')
    t.equal(await page.locator('#connections').textContent(), '1')

    for (const [camera, type, data] of [
      ['parking-north', 'vehicle_detected', { label: 'car', confidence: 0.91 }],
      ['warehouse-dock', 'person_detected', { confidence: 0.88 }],
      ['lobby-entrance', 'face_recognized', { person_name: 'Grace Hopper', confidence: 0.95 }]
    ] as const) {
      await publishEvent(server, { camera_id: camera, event_type: type, data })
    }
    await fetch(`${server.url}/api/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token('gateway', { roles: ['publisher'] })}` },
      body: JSON.stringify({ level: 'warning', message: 'Camera server-room stopped sending frames', data: { camera_id: 'server-room' } })
    })
    await page.locator('#feed .feed-item[data-kind="alert"]').waitFor()
    await page.locator('#events-today', { hasText: /^4$/ }).waitFor()
    t.equal(await page.locator('#feed .feed-item').count(), 5)
    t.match(await page.locator('#feed .feed-item').first().textContent(), /stopped sending frames/, 'newest on top')
    t.match(await page.locator('#chart-summary').textContent(), /events in the last 60 minutes/)
    await page.screenshot({ path: join(OUTPUT, 'dashboard.png'), fullPage: true })
  })

  t.test('a fresh load charts the events published before the page opened, from the service\'s series', async t => {
    const { server, gate } = await setUp(t)
    for (const camera of ['parking-north', 'warehouse-dock', 'lobby-entrance']) {
      t.equal((await publishEvent(server, { camera_id: camera, event_type: 'motion_detected', data: {} })).status, 202)
    }
    const page = await chromium.newPage(t)
    await page.goto(`${gate.url}/?token=${token('viewer')}`)
    // The page's own count starts at its first snapshot: only the service's series knows these three.
    await page.locator('#chart-summary', { hasText: /^3 events in the last 60 minutes/ }).waitFor()
    await publishEvent(server, { camera_id: 'parking-north', event_type: 'vehicle_detected', data: {} })
    await page.locator('#chart-summary', { hasText: /^4 events in the last 60 minutes/ }).waitFor()
    t.pass('the chart extends live')
  })

  t.test('shows Polling while the WebSocket endpoint is unavailable and Live when it returns', async t => {
    const { server, gate } = await setUp(t)
    // Short reconnect and polling delays for this page only; the page's defaults are seconds.
    const page = await chromium.newPage(t, { fastClient: true })
    await page.goto(`${gate.url}/?token=${token('viewer')}`)
    await badge(page, 'live').waitFor()

    gate.block()
    await badge(page, 'polling').waitFor()
    t.equal(await page.locator('#status').textContent(), 'Polling')
    await publishEvent(server, { camera_id: 'parking-north', event_type: 'motion_detected' })
    await page.locator('#events-total', { hasText: /^1$/ }).waitFor()
    t.pass('statistics keep coming while polling')
    t.match(await page.locator('#status-detail').textContent(), /refreshed every few seconds/)
    await page.screenshot({ path: join(OUTPUT, 'dashboard-polling.png') })

    gate.unblock()
    await badge(page, 'live').waitFor()
    t.equal(await page.locator('#status').textContent(), 'Live')
  })

  /** A live page (fast reconnects) that has shown one event, then loses its socket at the gate. */
  async function liveThenCut (t: TestLike, server: Parameters<typeof publishEvent>[0], gate: { url: string, block: () => void }): Promise<Page> {
    const page = await chromium.newPage(t, { fastClient: true })
    await page.goto(`${gate.url}/?token=${token('viewer')}`)
    await badge(page, 'live').waitFor()
    await publishEvent(server, { camera_id: 'cam-before', event_type: 'motion_detected' })
    await page.locator('#feed .feed-item', { hasText: 'cam-before' }).waitFor()

    gate.block()
    await page.locator('#status:not([data-status="live"])').waitFor()
    return page
  }

  t.test('after a dropped connection the missed events appear in the feed, without a gap note', async t => {
    const { server, gate } = await setUp(t)
    const page = await liveThenCut(t, server, gate)
    await publishEvent(server, { camera_id: 'cam-missed-1', event_type: 'motion_detected' })
    await publishEvent(server, { camera_id: 'cam-missed-2', event_type: 'motion_detected' })
    gate.unblock()
    await badge(page, 'live').waitFor()
    await page.locator('#feed .feed-item', { hasText: 'cam-missed-2' }).waitFor()
    const items = await page.locator('#feed .feed-item .feed-where').allTextContents()
    t.same(items, ['cam-missed-2', 'cam-missed-1', 'cam-before'], 'replayed in order, newest on top')
    t.equal(await page.locator('#feed .feed-item[data-kind="gap"]').count(), 0, 'nothing is reported missing')
  })

  t.test('when the missed events are no longer kept, the feed is marked incomplete and the cards reload', async t => {
    const { server, gate } = await setUp(t, { RESUME_HISTORY: 3 })
    const page = await liveThenCut(t, server, gate)
    for (let i = 1; i <= 5; i++) await publishEvent(server, { camera_id: `cam-missed-${i}`, event_type: 'motion_detected' })
    gate.unblock()
    const note = page.locator('#feed .feed-item[data-kind="gap"]')
    await note.waitFor()
    t.match(await note.textContent(), /Some events were missed while the connection was down; the statistics were reloaded/)
    await page.locator('#events-total', { hasText: /^6$/ }).waitFor()
    await badge(page, 'live').waitFor()
    await publishEvent(server, { camera_id: 'cam-after', event_type: 'motion_detected' })
    await page.locator('#feed .feed-item', { hasText: 'cam-after' }).waitFor()
    t.match(await page.locator('#feed .feed-item').first().textContent(), /cam-after/, 'the feed continues above the note')
    t.equal(await note.count(), 1)
    await page.screenshot({ path: join(OUTPUT, 'dashboard-resync.png') })
  })

  t.test('shows Unauthorized for an expired token and asks for another', async t => {
    const { gate } = await setUp(t)
    const page = await chromium.newPage(t)
    await page.goto(`${gate.url}/?token=${token('viewer', { ttlMs: -1000 })}`)
    await badge(page, 'unauthorized').waitFor()
    t.equal(await page.locator('#status').textContent(), 'Unauthorized')
    t.match(await page.locator('#status-detail').textContent(), /token expired/)
    t.ok(await page.locator('#token-input').isVisible(), 'the token form is shown')
    t.equal(await page.evaluate(() => sessionStorage.getItem('statistics-dashboard.token')), null, 'the refused token is forgotten')

    await page.locator('#token-input').fill(token('viewer'))
    await page.locator('#token-form button[type="submit"]').click()
    await badge(page, 'live').waitFor()
    t.pass('a pasted token connects')
  })

  t.test('fits a 360 px wide screen without horizontal scrolling', async t => {
    const { server, gate } = await setUp(t)
    const page = await chromium.newPage(t, { context: { viewport: { width: 360, height: 740 } } })
    await page.goto(`${gate.url}/?token=${token('viewer')}`)
    await badge(page, 'live').waitFor()
    await publishEvent(server, { camera_id: 'a-camera-with-a-rather-long-identifier-01', event_type: 'face_recognized', data: { person_name: 'Katherine Johnson' } })
    await page.locator('#events-today', { hasText: /^1$/ }).waitFor()
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    t.ok(width <= 360, `the page is ${width} px wide`)
    await page.screenshot({ path: join(OUTPUT, 'dashboard-360.png'), fullPage: true })

    for (let i = 2; i <= 105; i++) await publishEvent(server, { camera_id: `cam-${i}`, event_type: 'motion_detected' })
    await page.locator('#events-today', { hasText: /^105$/ }).waitFor()
    await page.locator('#feed .feed-item', { hasText: 'cam-105' }).waitFor()
    t.equal(await page.locator('#feed .feed-item').count(), 100, 'the feed keeps the latest 100')
    t.match(await page.locator('#feed .feed-item').first().textContent(), /cam-105/)
    t.match(await page.locator('#feed .feed-item').last().textContent(), /cam-6\b/)
  })
}, ['--disable-background-networking', '--disable-component-update', '--disable-sync'])
