/**
 * The README's dashboard screenshots, from a real run of the demo:
 *
 *   npm run docs:screenshots                  (2 minutes of traffic)
 *   npm run docs:screenshots -- --seconds 30  (a quicker, sparser picture)
 *
 * Starts the service on a free local port with the demo's simulated camera
 * gateway, lets it publish for a while (so the chart has minutes of bars and
 * the alerts panel has alerts), then opens the dashboard in headless
 * Chromium (/usr/bin/chromium, or CHROMIUM=path) at 1440×900 and 390×844 and
 * writes docs/dashboard-1440.png and docs/dashboard-390.png. It stops by
 * itself; a run that takes a minute longer than planned fails.
 */
import { existsSync, mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { chromium, type Browser } from 'playwright-core'
import { buildApp } from '../src/app.js'
import { signToken } from '../src/auth/sign.js'
import { loadConfig } from '../src/config.js'
import { CameraSimulator } from './demo/simulator.js'

const ROOT = join(import.meta.dirname, '..')
const DOCS = join(ROOT, 'docs')
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
/** Time allowed beyond the traffic for starting, loading and shooting. */
const OVERHEAD_MS = 60_000
const SHOTS = [
  { file: 'dashboard-1440.png', width: 1440, height: 900, fullPage: false },
  { file: 'dashboard-390.png', width: 390, height: 844, fullPage: true }
]

function fail (message: string): never {
  console.error(`docs:screenshots: ${message}`)
  process.exit(1)
}

function readSeconds (): number {
  let values
  try {
    ({ values } = parseArgs({ options: { seconds: { type: 'string', default: '120' } } }))
  } catch (err) {
    fail(`${(err as Error).message}; usage: npm run docs:screenshots -- [--seconds 120]`)
  }
  const seconds = Number(values.seconds)
  if (!Number.isInteger(seconds) || seconds < 5 || seconds > 1800) fail(`--seconds must be a whole number from 5 to 1800, not "${values.seconds}"`)
  return seconds
}

const delay = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function main (): Promise<void> {
  const seconds = readSeconds()
  if (!existsSync(CHROMIUM)) fail(`headless Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM=/path/to/chromium`)
  // The whole run is bounded: a hang anywhere ends it with an error, not never.
  const deadline = setTimeout(() => { fail(`did not finish within ${seconds} s of traffic and ${OVERHEAD_MS / 1000} s more`) }, seconds * 1000 + OVERHEAD_MS)

  const config = loadConfig({ JWT_SECRET: process.env.JWT_SECRET, STATS_INTERVAL_MS: '1000', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: '0', RATE_LIMIT_MAX: '0' })
  if (config.jwt.algorithm !== 'HS256') fail('the screenshots sign their own tokens: unset JWT_PUBLIC_KEY')
  const app = await buildApp(config)
  let simulator: CameraSimulator | null = null
  let browser: Browser | null = null
  try {
    await app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const key = config.jwt.key
    const viewer = signToken({ sub: 'operator' }, { key, ttlMs: 3_600_000 })
    simulator = new CameraSimulator({
      url: base,
      token: signToken({ sub: 'demo-camera-gateway', roles: ['publisher'] }, { key, ttlMs: 3_600_000 }),
      eventsPerSecond: 4,
      firstAlertAfterSeconds: 2,
      alertEverySeconds: Math.max(3, Math.round(seconds / 8)),
      onError: message => { console.error(`simulator: ${message}`) }
    })
    simulator.start()
    console.log(`docs:screenshots: ${seconds} s of demo traffic on ${base}`)

    // The pages are open while the traffic runs: alerts reach the alerts panel live.
    const launched = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic'] })
    browser = launched
    const pages = await Promise.all(SHOTS.map(async shot => {
      const context = await launched.newContext({ viewport: { width: shot.width, height: shot.height }, reducedMotion: 'reduce' })
      const page = await context.newPage()
      await page.goto(`${base}/?token=${viewer}`)
      await page.locator('#status[data-status="live"]').waitFor({ timeout: 15_000 })
      return { shot, page }
    }))
    await delay(seconds * 1000)

    mkdirSync(DOCS, { recursive: true })
    for (const { shot, page } of pages) {
      await page.locator('#feed .feed-item').nth(5).waitFor({ timeout: 15_000 })
      await page.screenshot({ path: join(DOCS, shot.file), fullPage: shot.fullPage })
      console.log(`docs:screenshots: wrote docs/${shot.file}`)
    }
  } finally {
    await browser?.close().catch(() => {})
    await simulator?.stop().catch(() => {})
    await app.close().catch(() => {})
    clearTimeout(deadline)
  }
}

main().catch((err: unknown) => { fail((err as Error).message) })
