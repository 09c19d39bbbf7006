import t from 'tap'
import type { Page } from 'playwright-core'
import { CameraSimulator } from '../../scripts/demo/simulator.js'
import { publishEvent, startServer, token, type Server } from '../helper.js'
import { WebSocketGate } from '../client/websocket-gate.js'
import { STRICT_CSP, withChromium, type TestLike } from './browser.js'

/**
 * The dashboard's layout in headless Chromium against the real service
 * with demo traffic (the demo's own simulator, through the HTTP API): at
 * phone, desktop and wall-screen widths no horizontal scroll, no clipped
 * text, and no empty half-screen; also in the Offline, Unauthorized and
 * Polling states.
 */

const LONG = 'an-unusually-long-camera-identifier-that-goes-on-and-on-without-any-spaces-at-all'

async function setUp (t: TestLike): Promise<{ server: Server, gate: WebSocketGate }> {
  const server = await startServer(t, { STATS_INTERVAL_MS: 200, RATE_LIMIT_MAX: 0 })
  const gate = await WebSocketGate.start(server.url, t, { 'content-security-policy': STRICT_CSP })
  return { server, gate }
}

/** The demo's camera gateway, publishing fast, with alerts from the start. */
function demoTraffic (t: TestLike, server: Server): CameraSimulator {
  const simulator = new CameraSimulator({
    url: server.url,
    token: token('demo-camera-gateway', { roles: ['publisher'] }),
    eventsPerSecond: 40,
    firstAlertAfterSeconds: 0,
    alertEverySeconds: 0.2,
    onError: message => { t.fail(`the service refused a demo publication: ${message}`) }
  })
  t.teardown(async () => { await simulator.stop() })
  simulator.start()
  return simulator
}

/** Text that does not fit anywhere: a long unbroken camera id, a long person name, a long alert. */
async function publishAwkwardText (server: Server): Promise<void> {
  await publishEvent(server, { camera_id: LONG, event_type: 'face_recognized', data: { person_name: 'Maria Magdalena Theodora Konstantinopoulou-Vanderbilt de la Cruz', confidence: 0.9 } })
  const response = await fetch(`${server.url}/api/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token('gateway', { roles: ['publisher'] })}` },
    body: JSON.stringify({ level: 'critical', message: `Camera ${LONG} stopped sending frames and did not come back after three restarts`, data: { camera_id: LONG } })
  })
  if (response.status !== 202) throw new Error(`POST /api/alerts answered ${response.status}`)
}

/**
 * Every text the page shows, checked in the page: each element with text
 * of its own (and each SVG text) must lie inside the visible box of every
 * ancestor that clips (overflow other than visible), or be wholly outside
 * it (scrolled away); and text cut inside its own box is only allowed as a
 * one-line ellipsis (never half a line, never cut without a mark).
 */
async function clippedText (page: Page): Promise<string[]> {
  return await page.evaluate(() => {
    const problems: string[] = []
    const describe = (el: Element): string => `${el.tagName.toLowerCase()}${el.id === '' ? '' : `#${el.id}`}${el.getAttribute('class') === null ? '' : `.${(el.getAttribute('class') ?? '').trim().split(/\s+/).join('.')}`} "${(el.textContent ?? '').trim().slice(0, 50)}"`
    const ownText = (el: Element): boolean => Array.from(el.childNodes).some(node => node.nodeType === Node.TEXT_NODE && (node.textContent ?? '').trim() !== '')
    const clips = (el: Element): boolean => {
      const style = getComputedStyle(el)
      return style.overflowX !== 'visible' || style.overflowY !== 'visible' || el.tagName.toLowerCase() === 'svg'
    }
    const slack = 0.5
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      if (!(ownText(el) || el instanceof SVGTextElement)) continue
      if (['SCRIPT', 'STYLE', 'TITLE', 'title'].includes(el.tagName) || el.closest('.visually-hidden, title') !== null) continue
      const style = getComputedStyle(el)
      if (style.visibility === 'hidden' || el.getClientRects().length === 0) continue
      const box = el.getBoundingClientRect()
      if (box.width === 0 || box.height === 0) continue
      let hiddenByScroll = false
      for (let up = el.parentElement; up !== null && up !== document.documentElement && up !== document.body; up = up.parentElement) {
        if (!clips(up)) continue
        const outer = up.getBoundingClientRect()
        const left = outer.left + up.clientLeft
        const top = outer.top + up.clientTop
        const right = up.tagName.toLowerCase() === 'svg' ? outer.right : left + up.clientWidth
        const bottom = up.tagName.toLowerCase() === 'svg' ? outer.bottom : top + up.clientHeight
        const outside = box.bottom <= top + slack || box.top >= bottom - slack || box.right <= left + slack || box.left >= right - slack
        if (outside) { hiddenByScroll = true; break }
        const inside = box.left >= left - slack && box.right <= right + slack && box.top >= top - slack && box.bottom <= bottom + slack
        if (!inside) {
          problems.push(`${describe(el)} is cut by ${describe(up).slice(0, 60)}: text ${JSON.stringify(box)} in ${JSON.stringify({ left, top, right, bottom })}`)
          break
        }
      }
      if (hiddenByScroll || !(el instanceof HTMLElement)) continue
      // Text cut inside its own box: only a one-line ellipsis is allowed.
      if (style.overflowX !== 'visible' || style.overflowY !== 'visible') {
        if (el.scrollHeight > el.clientHeight + 1) problems.push(`${describe(el)} has lines cut off (${el.scrollHeight} px of text in ${el.clientHeight} px)`)
        if (el.scrollWidth > el.clientWidth + 1 && !(style.textOverflow === 'ellipsis' && style.whiteSpace === 'nowrap')) problems.push(`${describe(el)} is cut without an ellipsis`)
      }
    }
    return problems
  })
}

/** How much of the window the page's sections use: their horizontal span, and how far down the first screen they reach. */
async function coverage (page: Page): Promise<{ width: number, height: number }> {
  return await page.evaluate(() => {
    const boxes = Array.from(document.querySelectorAll('main > section')).filter(el => el.getClientRects().length > 0).map(el => el.getBoundingClientRect())
    const left = Math.min(...boxes.map(box => box.left))
    const right = Math.max(...boxes.map(box => box.right))
    const bottom = Math.max(...boxes.map(box => box.bottom))
    return { width: (right - left) / window.innerWidth, height: Math.min(bottom, window.innerHeight) / window.innerHeight }
  })
}

async function checkLayout (t: { ok (value: unknown, message: string): unknown, same (a: unknown, b: unknown, message: string): unknown }, page: Page, label: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }))
  t.ok(scrollWidth <= innerWidth, `${label}: no horizontal scroll (${scrollWidth} <= ${innerWidth})`)
  t.same(await clippedText(page), [], `${label}: no clipped text`)
}

withChromium(chromium => {
  const openPage = async (t: TestLike, width: number, height: number): Promise<Page> =>
    await chromium.newPage(t, { context: { viewport: { width, height }, reducedMotion: 'reduce' }, fastClient: true })

  for (const [width, height] of [[360, 740], [1440, 900], [1920, 1080]]) {
    t.test(`at ${width}×${height} with demo traffic: no horizontal scroll, no clipped text${width >= 1440 ? ', no empty half-screen' : ''}`, async t => {
      const { server, gate } = await setUp(t)
      const page = await openPage(t, width, height)
      await page.goto(`${gate.url}/?token=${token('operator')}`)
      await page.locator('#status[data-status="live"]').waitFor()
      demoTraffic(t, server)
      await publishAwkwardText(server)
      // Full lists: more rows than fit, in the feed and in the alerts panel.
      await page.locator('#feed .feed-item').nth(40).waitFor()
      await page.locator('#alerts .alert-item').nth(8).waitFor()
      await page.locator('#chart .bar').first().waitFor()
      await checkLayout(t, page, 'live')

      const rows = await page.evaluate(() => ['feed', 'alerts'].map(id => {
        const list = document.getElementById(id) as HTMLElement
        const row = (list.firstElementChild as HTMLElement).getBoundingClientRect().height
        return { id, rows: list.clientHeight / row }
      }))
      for (const { id, rows: count } of rows) t.ok(Math.abs(count - Math.round(count)) < 0.02 && count >= 3, `#${id} shows whole rows (${count.toFixed(2)})`)

      if (width >= 1440) {
        const used = await coverage(page)
        t.ok(used.width >= 0.8, `the sections span ${Math.round(used.width * 100)}% of the width`)
        t.ok(used.height >= 0.9, `and reach ${Math.round(used.height * 100)}% down the first screen`)
        t.ok(await page.evaluate(() => {
          const chart = document.getElementById('chart-panel')?.getBoundingClientRect()
          const feed = document.getElementById('feed-panel')?.getBoundingClientRect()
          return chart !== undefined && feed !== undefined && Math.abs(chart.top - feed.top) < 1
        }), 'the chart and the feed sit side by side')
        for (const id of ['cameras', 'breakdown']) {
          t.ok(await page.locator(`#${id}`).isVisible(), `#${id} has its place on the first screen`)
        }
      }

      // Polling (the WebSocket endpoint gone, HTTP still there): same checks.
      gate.block()
      await page.locator('#status[data-status="polling"]').waitFor()
      await checkLayout(t, page, 'polling')
    })
  }

  t.test('at 360 px the Offline (no token) and Unauthorized states fit, and the prompt says how to get a token', async t => {
    const { gate } = await setUp(t)
    const page = await openPage(t, 360, 740)
    await page.goto(gate.url)
    await page.locator('#status[data-status="offline"]').waitFor()
    await page.locator('#token-panel').waitFor()
    t.match(await page.locator('#token-panel').textContent(), /npm run token -- --user me[\s\S]*sessionStorage/, 'how to get a token, and where it is kept')
    await checkLayout(t, page, 'offline')

    await page.goto(`${gate.url}/?token=not-a-token`)
    await page.locator('#status[data-status="unauthorized"]').waitFor()
    await page.locator('#token-panel[data-refused]').waitFor()
    await checkLayout(t, page, 'unauthorized')
  })

  t.test('an empty chart says so, with no "0 … 0" axis', async t => {
    const { gate } = await setUp(t)
    const page = await openPage(t, 1440, 900)
    await page.goto(`${gate.url}/?token=${token('operator')}`)
    await page.locator('#status[data-status="live"]').waitFor()
    await page.locator('#chart text.empty').waitFor()
    t.equal(await page.locator('#chart text.empty').textContent(), 'No events in the last 60 minutes')
    t.same(await page.locator('#chart text.label').allTextContents().then(labels => labels.filter(label => /^\d+$/.test(label))), [], 'no numbers on the axis')
    t.equal(await page.locator('#chart-summary').textContent(), 'No events in the last 60 minutes.')
  })
})
