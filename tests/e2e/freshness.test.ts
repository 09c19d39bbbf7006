import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { Page } from 'playwright-core'
import { publishEvent, startServer, token, type Server } from '../helper.js'
import { withChromium, type TestLike } from './browser.js'

/**
 * Whether the dashboard's cards are current, in headless Chromium against
 * the real service whose statistics include a real upstream HTTP source the
 * test controls: answering, failing (the service marks `upstream_stale`),
 * or hanging (the service's statistics stop while events still flow).
 */

type Mode = 'good' | 'failing' | 'hanging'

/** An upstream statistics endpoint that answers, fails, or holds requests until it answers again. */
class Upstream {
  mode: Mode = 'good'
  readonly #held: http.ServerResponse[] = []
  readonly #server: http.Server
  url = ''

  constructor () {
    this.#server = http.createServer((_request, response) => {
      if (this.mode === 'hanging') this.#held.push(response)
      else if (this.mode === 'failing') response.writeHead(503).end()
      else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ visitors: 7 }))
    })
  }

  async start (t: { teardown (fn: () => unknown): void }): Promise<void> {
    await new Promise<void>(resolve => this.#server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/stats`
    t.teardown(async () => {
      this.release()
      this.#server.closeAllConnections()
      await new Promise(resolve => this.#server.close(resolve))
    })
  }

  /** Answers the held requests well, and the next ones too. */
  release (): void {
    this.mode = 'good'
    for (const response of this.#held.splice(0)) response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ visitors: 8 }))
  }
}

const banner = (page: Page) => page.locator('#stale-banner')

withChromium(chromium => {
  async function setUp (t: TestLike, timeoutMs: number): Promise<{ server: Server, upstream: Upstream, page: Page }> {
    const upstream = new Upstream()
    await upstream.start(t)
    const server = await startServer(t, { STATS_INTERVAL_MS: 200, RATE_LIMIT_MAX: 0, STATS_UPSTREAM_URL: upstream.url, STATS_UPSTREAM_TIMEOUT_MS: timeoutMs })
    const page = await chromium.openDashboard(t, `${server.url}/?token=${token('operator')}`)
    await publishEvent(server, { camera_id: 'lobby-entrance', event_type: 'motion_detected' })
    await page.locator('#events-total', { hasText: /^1$/ }).waitFor()
    return { server, upstream, page }
  }

  t.test('the service marks its upstream stale: "stale since" shows on the cards, and clears when it answers again', async t => {
    const { upstream, page } = await setUp(t, 500)
    t.equal(await banner(page).isVisible(), false, 'fresh statistics: no banner')

    upstream.mode = 'failing'
    await banner(page).waitFor()
    t.match(await banner(page).textContent(), /^Stale since \d{1,2}:\d{2}.*: the upstream statistics source is not answering/)
    t.equal(await page.locator('#statistics[data-stale]').count(), 1, 'the cards stop looking live')

    upstream.release()
    await banner(page).waitFor({ state: 'hidden' })
    t.equal(await page.locator('#statistics[data-stale]').count(), 0)
  })

  t.test('statistics stop while events still arrive: the banner appears; "Last recognition" follows the feed at once; both recover', async t => {
    const { server, upstream, page } = await setUp(t, 60_000)
    // The upstream holds its answer: the service's gathering waits on it, so no statistics go out.
    upstream.mode = 'hanging'
    await publishEvent(server, { camera_id: 'lobby-entrance', event_type: 'face_recognized', data: { person_name: 'Grace Hopper' } })
    await page.locator('#feed .feed-item', { hasText: 'Grace Hopper' }).waitFor()
    await page.locator('#last-person', { hasText: 'Grace Hopper' }).waitFor()
    t.equal(await page.locator('#recognitions-today').textContent(), '0', 'the card changed before any statistics counted the recognition')

    await banner(page).waitFor()
    t.match(await banner(page).textContent(), /^Stale since \d{1,2}:\d{2}.*: events arrive but the statistics do not follow/)

    upstream.release()
    await page.locator('#recognitions-today', { hasText: /^1$/ }).waitFor()
    await banner(page).waitFor({ state: 'hidden' })
    t.equal(await page.locator('#last-person').textContent(), 'Grace Hopper', 'the snapshot agrees with the feed')
  })
})
