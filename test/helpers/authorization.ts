import { fileURLToPath } from 'node:url'
import * as oidc from 'openid-client'
import type { Page } from 'playwright-core'
import type { Test } from 'tap'
import type { Clock } from '../../src/clock.js'
import type { Config } from '../../src/config.js'
import type { Backend } from './backends.js'
import { startRedirectServer, type RedirectServer } from './redirect-server.js'
import { startTestServer } from './server.js'
import { sigilHttp } from './sigil-http.js'

export const ALICE = { username: 'alice', password: 'correct horse battery staple', email: 'alice@example.com' }
export const WEB_SECRET = 'web-app-secret-0123456789-0123456789-abcdef'
export const PARTNER_SECRET = 'partner-secret-0123456789-0123456789-abcdef'
export const SCOPE = 'openid profile email'

/** What the browser suites share: a listening Sigil, a redirect-URI server, three clients and one user. */
export interface AuthWorld {
  issuer: string
  redirect: RedirectServer
  userId: string
  /** openid-client configurations from the issuer's discovery document. */
  spa: oidc.Configuration
  web: oidc.Configuration
  partner: oidc.Configuration
  native: oidc.Configuration
  /** Redirect URIs on the redirect server (`native`'s is registered without the port). */
  uris: { spa: string; web: string; partner: string; spaLoggedOut: string; native: string }
}

/**
 * Starts Sigil on `backend` and registers, over the admin API: `spa` (public, first party),
 * `web` (confidential, first party), `partner` (confidential, third party: consent page), each
 * with a loopback redirect URI on a local server, `native` (public, registered as
 * `http://127.0.0.1/native/callback`: any port, RFC 8252 §7.3), and the user {@link ALICE}.
 */
export async function startAuthWorld(t: Test, backend: Backend, opts: { config?: Partial<Config>; clock?: Clock } = {}): Promise<AuthWorld> {
  const { issuer } = await startTestServer(t, backend, opts.config, opts.clock)
  const redirect = await startRedirectServer(t)
  const uris = {
    spa: `${redirect.origin}/spa/callback`,
    web: `${redirect.origin}/web/callback`,
    partner: `${redirect.origin}/partner/callback`,
    spaLoggedOut: `${redirect.origin}/spa/logged-out`,
    native: `${redirect.origin}/native/callback`,
  }
  const sigil = sigilHttp(issuer)
  const scopes = ['openid', 'profile', 'email']
  const grant_types = ['authorization_code', 'refresh_token']
  await sigil.registerClient({ client_id: 'spa', token_endpoint_auth_method: 'none', grant_types, scopes, redirect_uris: [uris.spa], post_logout_redirect_uris: [uris.spaLoggedOut] })
  await sigil.registerClient({ client_id: 'web', client_secret: WEB_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types, scopes, redirect_uris: [uris.web] })
  await sigil.registerClient({ client_id: 'partner', client_secret: PARTNER_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types, scopes, redirect_uris: [uris.partner], consent: 'third_party' })
  await sigil.registerClient({ client_id: 'native', token_endpoint_auth_method: 'none', grant_types, scopes, redirect_uris: ['http://127.0.0.1/native/callback'] })
  const userId = await sigil.createUser(ALICE)

  const discovered = await oidc.discovery(new URL(issuer), 'spa', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] })
  const configure = (clientId: string, secret?: string) => {
    const c = new oidc.Configuration(discovered.serverMetadata(), clientId, undefined, secret === undefined ? oidc.None() : oidc.ClientSecretBasic(secret))
    oidc.allowInsecureRequests(c)
    return c
  }
  return { issuer, redirect, userId, uris, spa: discovered, web: configure('web', WEB_SECRET), partner: configure('partner', PARTNER_SECRET), native: configure('native') }
}

/** One authorization request as a client app makes it: PKCE S256, state and nonce kept for the callback. */
export interface AuthorizationRequest { url: URL; verifier: string; state: string; nonce: string }

/** Builds the authorization URL with openid-client; `extra` adds or overrides parameters. */
export async function authorizationRequest(config: oidc.Configuration, redirectUri: string, extra: Record<string, string> = {}): Promise<AuthorizationRequest> {
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: SCOPE, state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  })
  return { url, verifier, state, nonce }
}

/** The token request for a callback, checked by openid-client: state, RFC 9207 `iss`, PKCE, nonce and the ID token. */
export function exchangeCode(config: oidc.Configuration, req: AuthorizationRequest, callback: URL, checks: oidc.AuthorizationCodeGrantChecks = {}) {
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true, ...checks,
  })
}

/** Asserts the page is Sigil's hosted login form, every input labelled. */
export async function expectLoginForm(t: Test, page: Page, issuer: string): Promise<void> {
  t.equal(new URL(page.url()).origin, issuer, 'the login form is served by the issuer')
  const username = page.locator('input[name="username"]')
  const password = page.locator('input[type="password"][name="password"]')
  await username.waitFor({ state: 'visible' })
  t.ok(await password.isVisible(), 'a password input named password')
  t.equal(await page.locator('form button[type="submit"]').count(), 1, 'one submit button')
  for (const [name, input] of [['username', username], ['password', password]] as const) {
    // Runs in the page (no DOM lib here): an input's `labels` are its <label for> and enclosing <label>.
    const labels = await input.evaluate(el => (el as unknown as { labels: { length: number } | null }).labels?.length ?? 0)
    t.ok(labels > 0, `the ${name} input has a <label>`)
  }
}

/** Fills and submits the login form. */
export async function submitLogin(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.locator('input[name="username"]').fill(user.username)
  await page.locator('input[type="password"][name="password"]').fill(user.password)
  await page.locator('form button[type="submit"]').click()
}

/**
 * Goes to `url` and returns the request that then reaches the redirect URI: for a browser that
 * already has a session (or an error that is redirected at once), with no form in between.
 * Throws at once, with the page's text, when the browser stays on the issuer instead.
 */
export async function navigateToCallback(page: Page, redirect: RedirectServer, url: URL): Promise<URL> {
  const callback = redirect.next()
  await page.goto(url.href)
  if (new URL(page.url()).origin !== redirect.origin) {
    callback.catch(() => undefined)
    redirect.abandon()
    throw new Error(`expected a redirect to the client, the browser stayed on ${page.url()}: ${(await page.locator('body').innerText()).slice(0, 300)}`)
  }
  return callback
}

/** Submits the login form and returns the request that then reaches the redirect URI. */
export async function loginToCallback(page: Page, redirect: RedirectServer, user: { username: string; password: string }): Promise<URL> {
  const callback = redirect.next()
  await submitLogin(page, user)
  return callback
}

/** Asserts an error authorization response (RFC 6749 §4.1.2.1) with `state` echoed and RFC 9207 `iss`. */
export function expectErrorResponse(t: Test, callback: URL, req: AuthorizationRequest, issuer: string, error: string): void {
  t.equal(callback.searchParams.get('error'), error, `error=${error} at the redirect URI`)
  t.equal(callback.searchParams.get('state'), req.state, 'state echoed exactly')
  t.equal(callback.searchParams.get('iss'), issuer, 'RFC 9207 iss')
  t.equal(callback.searchParams.get('code'), null, 'no code')
}

/** Asserts that `promise` rejects with an OAuth error response whose `error` is `code`. */
export async function rejectsWithOAuthError(t: Test, promise: Promise<unknown>, code: string, message?: string): Promise<void> {
  try {
    await promise
    t.fail(`${message ?? 'request'}: expected ${code}, got success`)
  } catch (err) {
    t.equal((err as { error?: string }).error, code, message ?? code)
  }
}

const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
const VIEWPORTS = [{ width: 1280, height: 800 }, { width: 390, height: 844 }] as const

/**
 * Checks the page fits a 390 px wide phone (no horizontal scroll) and, when `write`, saves
 * docs/screenshots/<name>-<width>.png at 1280×800 and 390×844. Leaves the viewport at 1280×800.
 */
export async function checkAndCapture(t: Test, page: Page, name: string, write: boolean): Promise<void> {
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize(viewport)
    if (viewport.width === 390) {
      const scrollWidth = await page.evaluate('document.documentElement.scrollWidth') as number
      t.ok(scrollWidth <= 390, `${name} page fits 390 px without horizontal scroll (scrollWidth ${scrollWidth})`)
    }
    if (write) await page.screenshot({ path: `${SCREENSHOTS}${name}-${viewport.width}.png` })
  }
  await page.setViewportSize(VIEWPORTS[0])
}
