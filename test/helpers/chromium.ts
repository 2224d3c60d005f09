import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'

/** Debian's `chromium` package (installed by .ci/run); playwright-core never downloads a browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

/** Headless, sandbox-free (CI runs as root), and quiet: no update, sync or background traffic. */
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]

/** Bound on every browser wait: a page that never comes fails the test instead of hanging it. */
export const BROWSER_TIMEOUT_MS = 10_000

interface Teardown { teardown(fn: () => unknown): void }

/**
 * Launches Debian's Chromium with a fresh temporary profile (playwright-core makes a new user
 * data dir per launch and deletes it on close); closed at teardown. Throws when the binary is
 * missing: a browser test never skips silently.
 */
export async function launchChromium(t: Teardown): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium package (.ci/run does)`)
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 })
  t.teardown(() => browser.close())
  return browser
}

/** A new cookie jar (one "browser" for SSO purposes) whose every wait is bounded; closed at teardown. */
export async function newBrowserContext(t: Teardown, browser: Browser, opts: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts })
  context.setDefaultTimeout(BROWSER_TIMEOUT_MS)
  context.setDefaultNavigationTimeout(BROWSER_TIMEOUT_MS)
  t.teardown(() => context.close())
  return { context, page: await context.newPage() }
}
