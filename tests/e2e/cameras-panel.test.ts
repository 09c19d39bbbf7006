import t from 'tap'
import type { Page } from 'playwright-core'
import { publishEvent, startServer, token, waitFor, type Server } from '../helper.js'
import { WebSocketGate } from '../client/websocket-gate.js'
import { STRICT_CSP, withChromium, type TestLike } from './browser.js'

/**
 * The dashboard's Cameras panel, its feed filter and the events-by-type
 * breakdown in headless Chromium (Debian's package) against the real
 * service, behind a real proxy that can take the WebSocket away. The
 * filter is checked where it acts: in the frames the service sends.
 */

const STALE_MS = 3000

type Frame = Record<string, unknown>

async function setUp (t: TestLike): Promise<{ server: Server, gate: WebSocketGate }> {
  const server = await startServer(t, { STATS_INTERVAL_MS: 100, CAMERA_STALE_MS: STALE_MS, RATE_LIMIT_MAX: 0 })
  const gate = await WebSocketGate.start(server.url, t, { 'content-security-policy': STRICT_CSP })
  return { server, gate }
}

async function publish (server: Server, camera: string, type = 'motion_detected', data: Record<string, unknown> = {}): Promise<void> {
  const response = await publishEvent(server, { camera_id: camera, event_type: type, data })
  if (response.status !== 202) throw new Error(`POST /api/events answered ${response.status}: ${await response.text()}`)
}

async function publishAlert (server: Server, level: string, message: string): Promise<void> {
  const response = await fetch(`${server.url}/api/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token('gateway', { roles: ['publisher'] })}` },
    body: JSON.stringify({ level, message })
  })
  if (response.status !== 202) throw new Error(`POST /api/alerts answered ${response.status}: ${await response.text()}`)
}

const camera = (page: Page, id: string) => page.locator(`#camera-list .camera-item[data-camera="${id}"]`)
const feedItem = (page: Page, text: string) => page.locator('#feed .feed-item', { hasText: text })
const confirmed = (page: Page, text: string) => page.locator('#feed-filter[data-confirmed="true"]', { hasText: text })
const badgeCount = (page: Page, count: number) => page.locator(`#alerts-badge[data-count="${count}"]`)

withChromium(chromium => {
  /** Opens the dashboard; `frames` collects every message the service sends it, on every socket. */
  async function openPage (t: TestLike, url: string): Promise<{ page: Page, frames: Frame[] }> {
    const page = await chromium.newPage(t, { fastClient: true })
    const frames: Frame[] = []
    page.on('websocket', socket => {
      socket.on('framereceived', ({ payload }) => {
        if (typeof payload === 'string') frames.push(JSON.parse(payload) as Frame)
      })
    })
    await page.goto(url)
    await page.locator('#status[data-status="live"]').waitFor()
    return { page, frames }
  }

  /** The camera events the service sent after frame `from`, as camera ids. */
  function camerasSent (frames: Frame[], from: number): unknown[] {
    return frames.slice(from).filter(frame => frame.type === 'camera_event').map(frame => frame.camera_id)
  }

  t.test('a camera silent for longer than CAMERA_STALE_MS is marked stale, in words and by class', async t => {
    const { server, gate } = await setUp(t)
    const { page } = await openPage(t, `${gate.url}/?token=${token('viewer')}`)
    t.equal(await page.locator('#cameras-empty').isVisible(), true, 'an empty state before any camera')
    await publish(server, 'gate-1')
    await publish(server, 'gate-1')
    await camera(page, 'gate-1').locator('.camera-today', { hasText: '2 today' }).waitFor()
    t.match(await camera(page, 'gate-1').textContent(), /gate-1.*2 today.*last \d/, 'its count today and its last event time')
    t.equal(await page.locator('#cameras-empty').isVisible(), false)

    // No event follows: the mark must come by itself.
    await page.locator('#camera-list .camera-item.camera-stale[data-camera="gate-1"]').waitFor()
    t.match(await camera(page, 'gate-1').locator('.camera-state').textContent(), /^Stale: silent \d+ s$/)

    // A camera heard from now is listed first-by-activity and not stale; gate-1 still is.
    for (let i = 0; i < 3; i++) await publish(server, 'lobby')
    await page.locator('#camera-list .camera-item[data-camera="lobby"] .camera-today', { hasText: '3 today' }).waitFor()
    t.same(await page.locator('#camera-list .camera-item').evaluateAll(items => items.map(item => [(item as HTMLElement).dataset.camera, (item as HTMLElement).dataset.stale])),
      [['lobby', 'false'], ['gate-1', 'true']], 'busiest first; only the silent one is stale')
  })

  t.test('clicking a camera filters the feed through subscribe; the subscribed answer confirms it; it survives a reconnect', async t => {
    const { server, gate } = await setUp(t)
    const { page, frames } = await openPage(t, `${gate.url}/?token=${token('viewer')}`)
    await publish(server, 'cam-a')
    await publish(server, 'cam-b')
    await camera(page, 'cam-b').waitFor()
    await feedItem(page, 'cam-b').waitFor()

    await camera(page, 'cam-a').locator('button').click()
    await confirmed(page, 'cam-a only').waitFor()
    t.ok(frames.some(frame => frame.type === 'subscribed' && JSON.stringify(frame.camera_ids) === '["cam-a"]'), 'the service answered subscribed with camera_ids ["cam-a"]')
    t.equal(await camera(page, 'cam-a').locator('button').getAttribute('aria-pressed'), 'true')
    t.equal(await page.locator('#cameras-all').getAttribute('aria-pressed'), 'false')
    t.equal(await feedItem(page, 'cam-b').count(), 0, 'the feed starts again under the filter')

    let from = frames.length
    await publish(server, 'cam-b', 'motion_detected', { label: 'not for this feed' })
    await publish(server, 'cam-a', 'motion_detected', { label: 'marker-1' })
    await feedItem(page, 'marker-1').waitFor()
    t.same(camerasSent(frames, from), ['cam-a'], 'the service sent cam-a\'s event only')
    t.equal(await feedItem(page, 'cam-b').count(), 0)

    // A new connection gets the filter again from the client, and the service confirms it again.
    gate.block()
    await page.locator('#status:not([data-status="live"])').waitFor()
    from = frames.length
    gate.unblock()
    await page.locator('#status[data-status="live"]').waitFor()
    const answered = (): boolean => frames.slice(from).some(frame => frame.type === 'subscribed' && JSON.stringify(frame.camera_ids) === '["cam-a"]')
    await waitFor(answered, 'the subscribed answer on the new connection')
    await confirmed(page, 'cam-a only').waitFor()
    await publish(server, 'cam-b', 'motion_detected', { label: 'still not for this feed' })
    await publish(server, 'cam-a', 'motion_detected', { label: 'marker-2' })
    await feedItem(page, 'marker-2').waitFor()
    t.ok(answered(), 'confirmed on the new connection')
    t.same(camerasSent(frames, from), ['cam-a'], 'still cam-a only after the reconnect')

    await page.locator('#cameras-all').click()
    await confirmed(page, 'Every camera').waitFor()
    t.ok(frames.some(frame => frame.type === 'subscribed' && frame.camera_ids === null), 'every camera again')
    await publish(server, 'cam-b', 'motion_detected', { label: 'back' })
    await feedItem(page, 'back').waitFor()
  })

  t.test('the breakdown counts what was published, by type', async t => {
    const { server, gate } = await setUp(t)
    const { page } = await openPage(t, `${gate.url}/?token=${token('viewer')}`)
    t.equal(await page.locator('#breakdown-empty').isVisible(), true, 'an empty state before any event')
    t.equal(await page.locator('#breakdown-table').isVisible(), false)
    for (let i = 0; i < 3; i++) await publish(server, 'cam-1', 'motion_detected')
    for (let i = 0; i < 2; i++) await publish(server, 'cam-2', 'face_recognized', { person_name: 'Ann' })
    await publish(server, 'cam-3', 'vehicle_detected')
    await page.locator('#breakdown-rows tr[data-type="vehicle_detected"]').waitFor()
    await page.locator('#breakdown-rows tr[data-type="motion_detected"] .type-count', { hasText: '3' }).waitFor()
    const rows = await page.locator('#breakdown-rows tr').evaluateAll(rows => rows.map(row => [
      row.querySelector('.type-label')?.textContent, row.querySelector('.type-count')?.textContent, (row.querySelector('meter') as HTMLMeterElement).value
    ]))
    t.same(rows, [['Motion detected', '3', 0.5], ['Face recognized', '2', 2 / 6], ['Vehicle detected', '1', 1 / 6]], 'busiest first, with its share')
    t.equal(await page.locator('#breakdown-empty').isVisible(), false)
  })

  t.test('"Alerts only" drops camera events through the protocol, and back', async t => {
    const { server, gate } = await setUp(t)
    const { page, frames } = await openPage(t, `${gate.url}/?token=${token('viewer')}`)
    await page.locator('#feed-alerts-only').click()
    await confirmed(page, 'alerts only').waitFor()
    t.ok(frames.some(frame => frame.type === 'subscribed' && JSON.stringify(frame.event_types) === '["alert"]'), 'the service answered subscribed with event_types ["alert"]')
    t.equal(await page.locator('#feed-alerts-only').getAttribute('aria-pressed'), 'true')

    const from = frames.length
    await publish(server, 'cam-1')
    await publishAlert(server, 'warning', 'marker alert')
    await feedItem(page, 'marker alert').waitFor()
    t.same(camerasSent(frames, from), [], 'no camera event was sent')
    t.equal(await page.locator('#feed .feed-item[data-kind="camera_event"]').count(), 0)

    await page.locator('#feed-alerts-only').click()
    await confirmed(page, 'events and alerts').waitFor()
    await publish(server, 'cam-1', 'motion_detected', { label: 'events again' })
    await feedItem(page, 'events again').waitFor()
  })

  t.test('a critical alert stays in the alerts panel after 200 later events; dismissing it lowers the badge', async t => {
    const { server, gate } = await setUp(t)
    const { page } = await openPage(t, `${gate.url}/?token=${token('viewer')}`)
    await publishAlert(server, 'critical', 'Perimeter breach')
    await publishAlert(server, 'warning', 'Disk almost full')
    await badgeCount(page, 2).waitFor()
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(Array.from({ length: 20 }, async (_, j) => { await publish(server, `cam-${(i + j) % 7}`, 'motion_detected', { label: `event ${i + j}` }) }))
    }
    // Delivered in seq order: once the last one is in the feed, the 200 before it came through.
    await publish(server, 'cam-0', 'motion_detected', { label: 'the last one' })
    await feedItem(page, 'the last one').waitFor()
    t.equal(await feedItem(page, 'Perimeter breach').count(), 0, 'the alert has scrolled out of the feed')
    const critical = page.locator('#alerts .alert-item.alert-critical', { hasText: 'Perimeter breach' })
    t.equal(await critical.count(), 1, 'but stays in the panel')
    t.equal(await page.locator('#alerts-badge').textContent(), '2')

    await critical.locator('.alert-dismiss').click()
    await badgeCount(page, 1).waitFor()
    t.equal(await page.locator('#alerts-badge').textContent(), '1')
    t.equal(await critical.count(), 0)
  })

  t.test('clicking an event type filters the feed through subscribe with camera_event_types, with the camera filter; the reset is a keyboard button', async t => {
    const { server, gate } = await setUp(t)
    const { page, frames } = await openPage(t, `${gate.url}/?token=${token('viewer')}`)
    const answered = (from: number, check: (frame: Frame) => boolean): boolean => frames.slice(from).some(frame => frame.type === 'subscribed' && check(frame))
    const typesSent = (from: number): unknown[] => frames.slice(from).filter(frame => frame.type === 'camera_event').map(frame => `${String(frame.camera_id)}/${String(frame.event_type)}`)
    await publish(server, 'cam-a', 'motion_detected')
    await publish(server, 'cam-b', 'face_recognized', { person_name: 'Ann' })
    const faceRow = page.locator('#breakdown-rows tr[data-type="face_recognized"] button.type-select')
    await faceRow.waitFor()

    let from = frames.length
    await faceRow.click()
    await confirmed(page, 'Every camera · Face recognized events and alerts').waitFor()
    t.ok(answered(from, frame => JSON.stringify(frame.camera_event_types) === '["face_recognized"]' && frame.camera_event_type_count === 1), 'the service answered subscribed with camera_event_types ["face_recognized"]')
    t.equal(await faceRow.getAttribute('aria-pressed'), 'true')
    t.equal(await page.locator('#types-all').getAttribute('aria-pressed'), 'false')

    from = frames.length
    await publish(server, 'cam-a', 'motion_detected', { label: 'not for this feed' })
    await publish(server, 'cam-b', 'face_recognized', { person_name: 'marker-1' })
    await feedItem(page, 'marker-1').waitFor()
    t.same(typesSent(from), ['cam-b/face_recognized'], 'the service sent the face_recognized event only')
    t.equal(await feedItem(page, 'not for this feed').count(), 0)

    // A camera on top of the type: both filters in one subscription.
    await camera(page, 'cam-a').waitFor()
    from = frames.length
    await camera(page, 'cam-a').locator('button').click()
    await confirmed(page, 'cam-a only · Face recognized events and alerts').waitFor()
    t.ok(answered(from, frame => JSON.stringify(frame.camera_ids) === '["cam-a"]' && JSON.stringify(frame.camera_event_types) === '["face_recognized"]'), 'confirmed with both filters')
    from = frames.length
    await publish(server, 'cam-b', 'face_recognized', { person_name: 'other camera' })
    await publish(server, 'cam-a', 'motion_detected', { label: 'other type' })
    await publish(server, 'cam-a', 'face_recognized', { person_name: 'marker-2' })
    await feedItem(page, 'marker-2').waitFor()
    t.same(typesSent(from), ['cam-a/face_recognized'], 'only cam-a\'s face_recognized events')

    // The reset, from the keyboard: every type again, the camera filter stays.
    from = frames.length
    await page.locator('#types-all').focus()
    await page.keyboard.press('Enter')
    await confirmed(page, 'cam-a only · events and alerts').waitFor()
    t.ok(answered(from, frame => frame.camera_event_types === null && JSON.stringify(frame.camera_ids) === '["cam-a"]'), 'camera_event_types null, camera_ids kept')
    t.equal(await faceRow.getAttribute('aria-pressed'), 'false')
    await publish(server, 'cam-a', 'motion_detected', { label: 'every type again' })
    await feedItem(page, 'every type again').waitFor()
  })
})
