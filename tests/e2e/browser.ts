import { existsSync } from 'node:fs'
import t from 'tap'
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core'

/**
 * Headless Chromium for the browser tests: Debian's package, never a
 * downloaded browser. A file without it is skipped on a developer's
 * machine and fails in CI, where a skipped browser test would hide a
 * broken dashboard.
 */

export const CHROMIUM = '/usr/bin/chromium'

/** The strictest policy the dashboard must live with: nothing inline, nothing from elsewhere. */
export const STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic']

export interface TestLike { teardown (fn: () => unknown): void, fail (message: string): unknown }

export interface PageOptions {
  /** For the page's own context; a 1280×900 viewport when not given. */
  context?: BrowserContextOptions
  /** Fail the test on a policy violation in the console (true when not given). */
  checkPolicy?: boolean
  /** Short reconnect and polling delays for the dashboard; its defaults are seconds. */
  fastClient?: boolean
}

/** The file's browser, launched before its tests and closed after them. */
export class Chromium {
  #browser: Browser | undefined

  get browser (): Browser {
    if (this.#browser === undefined) throw new Error('Chromium is not running yet: use it inside a test')
    return this.#browser
  }

  async launch (args: string[]): Promise<void> {
    this.#browser = await chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, ...args] })
  }

  async close (): Promise<void> {
    await this.#browser?.close()
  }

  /** A page in a context of its own that fails the test on any script error (and policy violation). */
  async newPage (t: TestLike, options: PageOptions = {}): Promise<Page> {
    const context = await this.browser.newContext(options.context ?? { viewport: { width: 1280, height: 900 } })
    t.teardown(async () => { await context.close() })
    const page = await context.newPage()
    page.on('pageerror', err => { t.fail(`script error in the page: ${err.message}`) })
    if (options.checkPolicy !== false) {
      page.on('console', message => {
        if (/Content Security Policy|Refused to/i.test(message.text())) t.fail(`policy violation: ${message.text()}`)
      })
    }
    if (options.fastClient === true) {
      await page.addInitScript(() => {
        window.__dashboardClientOptions = { backoffBaseMs: 50, backoffMaxMs: 200, pollIntervalMs: 200 }
      })
    }
    return page
  }

  /** A new page on the dashboard at `url`, once it is Live. */
  async openDashboard (t: TestLike, url: string, options: PageOptions = {}): Promise<Page> {
    const page = await this.newPage(t, options)
    await page.goto(url)
    await page.locator('#status[data-status="live"]').waitFor()
    return page
  }
}

/**
 * Declares the file's browser tests in `define` when Chromium is there;
 * `args` are added to the usual command line.
 */
export function withChromium (define: (chromium: Chromium) => void, args: string[] = []): void {
  if (!existsSync(CHROMIUM)) {
    const message = `headless Chromium not found at ${CHROMIUM}: install it with \`apt-get install chromium\` to run the browser tests`
    if (process.env.CI === 'true') t.fail(message)
    else t.plan(0, `skipped: ${message}`)
    return
  }
  const browser = new Chromium()
  t.before(async () => { await browser.launch(args) })
  t.teardown(async () => { await browser.close() })
  define(browser)
}
