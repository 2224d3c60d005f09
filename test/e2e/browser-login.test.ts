// issue 10 acceptance, part 1: the hosted login page in Debian's Chromium, driven by playwright-core,
// with openid-client as the client app (PKCE S256, state, nonce, RFC 9207 iss, ID token checks).
import * as oidc from 'openid-client'
import type { Page } from 'playwright-core'
import t, { type Test } from 'tap'
import {
  ALICE, authorizationRequest, checkAndCapture, exchangeCode, expectErrorResponse, expectLoginForm,
  loginToCallback, navigateToCallback, rejectsWithOAuthError, startAuthWorld, type AuthWorld,
} from '../helpers/authorization.js'
import { backends } from '../helpers/backends.js'
import { launchChromium, newBrowserContext } from '../helpers/chromium.js'
import { sigilHttp } from '../helpers/sigil-http.js'

const browser = await launchChromium(t)

/** The whole first login of the SPA: form, callback, code exchange; returns openid-client's result. */
async function firstLogin(t: Test, w: AuthWorld, page: Page, screenshot?: string) {
  const req = await authorizationRequest(w.spa, w.uris.spa)
  const response = await page.goto(req.url.href)
  await expectLoginForm(t, page, w.issuer)
  const csp = response?.headers()['content-security-policy'] ?? ''
  t.match(csp, /default-src 'none'/, 'a strict CSP')
  t.notMatch(csp, /unsafe-inline|unsafe-eval/, 'the CSP allows no inline script')
  t.equal(await page.locator('script:not([src])').count(), 0, 'no inline script on the page')
  if (screenshot !== undefined) await checkAndCapture(t, page, screenshot, true)
  const before = new Set((await page.context().cookies(w.issuer)).map(c => c.name))
  const callback = await loginToCallback(page, w.redirect, ALICE)
  const cookies = await page.context().cookies(w.issuer)
  t.ok(cookies.some(c => !before.has(c.name)), 'the login set a session cookie')
  for (const c of cookies) {
    t.ok(c.httpOnly && c.sameSite === 'Lax' && !c.secure, `cookie ${c.name} is HttpOnly, SameSite=Lax, not Secure on an http issuer`)
  }
  t.equal(callback.pathname, '/spa/callback', 'redirected to the registered redirect URI')
  t.equal(callback.searchParams.get('state'), req.state, 'state echoed exactly')
  t.equal(callback.searchParams.get('iss'), w.issuer, 'RFC 9207 iss in the authorization response')
  t.ok((callback.searchParams.get('code') ?? '').length >= 22, 'a code of at least 128 bits')
  const tokens = await exchangeCode(w.spa, req, callback)
  const claims = tokens.claims()!
  t.equal(claims.sub, w.userId, 'ID token sub is the user')
  t.equal(claims.nonce, req.nonce, 'nonce carried into the ID token')
  t.equal(claims.aud, 'spa')
  t.type(claims.auth_time, 'number', 'auth_time in the ID token')
  return { req, tokens, claims }
}

for (const [index, backend] of backends().entries()) {
  // Screenshots come from the first backend only: the pages are the same on both.
  const capture = index === 0
  t.test(backend.name, async t => {
    const w = await startAuthWorld(t, backend)
    const discovery = w.spa.serverMetadata()
    // One "browser" (cookie jar) that logs in once and is then reused: SSO.
    const { page } = await newBrowserContext(t, browser)

    t.test('issue 10: discovery lists the authorization endpoint, S256, the code flow and RFC 9207 iss', async t => {
      t.equal(discovery.authorization_endpoint, `${w.issuer}/oauth2/authorize`)
      t.same(discovery.response_types_supported, ['code'])
      t.same(discovery.response_modes_supported, ['query'])
      t.same(discovery.code_challenge_methods_supported, ['S256'])
      t.ok(discovery.grant_types_supported?.includes('authorization_code'))
      t.equal(discovery.end_session_endpoint, `${w.issuer}/oauth2/logout`)
      t.equal(discovery.authorization_response_iss_parameter_supported, true)
      t.equal(discovery.claims_parameter_supported, false)
    })

    t.test('issue 10: an SPA logs in through the hosted page; openid-client exchanges the code, validates the ID token and refreshes', async t => {
      const { tokens } = await firstLogin(t, w, page, capture ? 'login' : undefined)
      t.ok(tokens.refresh_token, 'a refresh token')
      const refreshed = await oidc.refreshTokenGrant(w.spa, tokens.refresh_token!)
      t.ok(refreshed.access_token, 'refreshed')
      t.not(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotated')
    })

    t.test('issue 10: the same login works with JavaScript disabled', async t => {
      const { page } = await newBrowserContext(t, browser, { javaScriptEnabled: false })
      const { tokens } = await firstLogin(t, w, page)
      const refreshed = await oidc.refreshTokenGrant(w.spa, tokens.refresh_token!)
      t.ok(refreshed.access_token, 'refreshed')
    })

    t.test('issue 10: a second authorization in the same browser skips the form (SSO session)', async t => {
      const req = await authorizationRequest(w.spa, w.uris.spa)
      const callback = await navigateToCallback(page, w.redirect, req.url)
      t.equal(callback.searchParams.get('state'), req.state)
      const tokens = await exchangeCode(w.spa, req, callback)
      t.equal(tokens.claims()!.sub, w.userId)
    })

    t.test('issue 10: a native app registered with a portless loopback redirect URI may use any port (RFC 8252 §7.3)', async t => {
      const req = await authorizationRequest(w.native, w.uris.native)
      const callback = await navigateToCallback(page, w.redirect, req.url)
      t.equal(callback.pathname, '/native/callback')
      const tokens = await exchangeCode(w.native, req, callback)
      t.equal(tokens.claims()!.aud, 'native')
    })

    for (const extra of [{ prompt: 'login' }, { max_age: '0' }] as Array<Record<string, string>>) {
      const [name, value] = Object.entries(extra)[0]!
      t.test(`issue 10: ${name}=${value} shows the login form again despite the session`, async t => {
        const before = Math.floor(Date.now() / 1000)
        const req = await authorizationRequest(w.spa, w.uris.spa, extra)
        await page.goto(req.url.href)
        await expectLoginForm(t, page, w.issuer)
        t.same(w.redirect.pending(), [], 'nothing reached the redirect URI before the form was submitted')
        const callback = await loginToCallback(page, w.redirect, ALICE)
        const tokens = await exchangeCode(w.spa, req, callback, name === 'max_age' ? { maxAge: 0 } : {})
        t.ok((tokens.claims()!.auth_time as number) >= before - 1, 'auth_time is the new login')
      })
    }

    t.test('issue 10: prompt=none without a session gives login_required at the redirect URI; login_hint fills the username', async t => {
      const { page } = await newBrowserContext(t, browser)
      const req = await authorizationRequest(w.spa, w.uris.spa, { prompt: 'none' })
      expectErrorResponse(t, await navigateToCallback(page, w.redirect, req.url), req, w.issuer, 'login_required')
      await page.goto((await authorizationRequest(w.spa, w.uris.spa, { login_hint: ALICE.username })).url.href)
      t.equal(await page.locator('input[name="username"]').inputValue(), ALICE.username)
    })

    t.test('issue 10: a third-party client shows a consent page listing the scopes; consent is remembered until revoked; prompt=none before consent is consent_required', async t => {
      const silent = await authorizationRequest(w.partner, w.uris.partner, { prompt: 'none' })
      expectErrorResponse(t, await navigateToCallback(page, w.redirect, silent.url), silent, w.issuer, 'consent_required')

      const { page: fresh } = await newBrowserContext(t, browser)
      const req = await authorizationRequest(w.partner, w.uris.partner)
      await fresh.goto(req.url.href)
      await expectLoginForm(t, fresh, w.issuer)
      await loginFormThenConsent(t, fresh, w)
      await checkAndCapture(t, fresh, 'consent', capture)
      const callback = w.redirect.next()
      await fresh.getByRole('button', { name: /allow|approve|accept|grant|continue|yes/i }).click()
      const tokens = await exchangeCode(w.partner, req, await callback)
      t.equal(tokens.claims()!.sub, w.userId)
      t.equal(tokens.scope, 'openid profile email')

      const again = await authorizationRequest(w.partner, w.uris.partner)
      const quiet = await navigateToCallback(fresh, w.redirect, again.url)
      t.ok(quiet.searchParams.get('code'), 'consent remembered: straight back with a code')
      const elsewhere = await authorizationRequest(w.partner, w.uris.partner)
      const other = await navigateToCallback(page, w.redirect, elsewhere.url)
      t.ok(other.searchParams.get('code'), 'remembered for the user, not the browser: the other browser gets a code too')

      await sigilHttp(w.issuer).revokeConsent(w.userId, 'partner')
      await page.goto((await authorizationRequest(w.partner, w.uris.partner)).url.href)
      t.ok(await page.getByRole('button', { name: /allow/i }).isVisible(), 'revoked by the admin API: the consent page is shown again')
      t.same(w.redirect.pending(), [], 'and nothing reached the client')

      const denied = await authorizationRequest(w.partner, w.uris.partner, { prompt: 'consent' })
      await fresh.goto(denied.url.href)
      t.ok(await fresh.getByText('email').first().isVisible(), 'prompt=consent shows the consent page again')
      const refusal = w.redirect.next()
      await fresh.getByRole('button', { name: /deny|decline|cancel|refuse|no/i }).click()
      expectErrorResponse(t, await refusal, denied, w.issuer, 'access_denied')
    })

    t.test('issue 10: logout (end_session_endpoint, id_token_hint, post_logout_redirect_uri, state) ends the session', async t => {
      const req = await authorizationRequest(w.spa, w.uris.spa)
      const tokens = await exchangeCode(w.spa, req, await navigateToCallback(page, w.redirect, req.url))
      const logoutUrl = oidc.buildEndSessionUrl(w.spa, {
        id_token_hint: tokens.id_token!, post_logout_redirect_uri: w.uris.spaLoggedOut, state: 'bye-42',
      })
      t.equal(logoutUrl.origin + logoutUrl.pathname, discovery.end_session_endpoint)
      const back = await navigateToCallback(page, w.redirect, logoutUrl)
      t.equal(back.pathname, '/spa/logged-out', 'sent to the registered post_logout_redirect_uri')
      t.equal(back.searchParams.get('state'), 'bye-42', 'logout state echoed')

      const silent = await authorizationRequest(w.spa, w.uris.spa, { prompt: 'none' })
      expectErrorResponse(t, await navigateToCallback(page, w.redirect, silent.url), silent, w.issuer, 'login_required')
      await rejectsWithOAuthError(t, oidc.refreshTokenGrant(w.spa, tokens.refresh_token!), 'invalid_grant',
        'the refresh family born from the session ended with it')
    })

    t.test('issue 10: logout without an id_token_hint asks for confirmation, then ends the session', async t => {
      const { page } = await newBrowserContext(t, browser)
      await firstLogin(t, w, page)
      await page.goto(discovery.end_session_endpoint!)
      t.equal(new URL(page.url()).origin, w.issuer, 'a confirmation page on the issuer')
      const confirm = page.locator('form button[type="submit"]')
      t.equal(await confirm.count(), 1, 'one button to confirm')
      t.ok(await page.getByRole('heading').first().isVisible(), 'the page says what it is for')
      const posted = page.waitForResponse(r => r.request().method() === 'POST' && r.url().startsWith(discovery.end_session_endpoint!))
      await confirm.click()
      t.ok((await posted).status() < 400, 'the confirmation is posted and accepted')
      await page.waitForLoadState()
      t.same(w.redirect.pending(), [], 'no redirect to any client')
      const silent = await authorizationRequest(w.spa, w.uris.spa, { prompt: 'none' })
      expectErrorResponse(t, await navigateToCallback(page, w.redirect, silent.url), silent, w.issuer, 'login_required')
    })
  })
}

/** Submits the login form and waits for the consent page, which lists the requested scopes. */
async function loginFormThenConsent(t: Test, page: Page, w: AuthWorld): Promise<void> {
  await page.locator('input[name="username"]').fill(ALICE.username)
  await page.locator('input[type="password"][name="password"]').fill(ALICE.password)
  await page.locator('form button[type="submit"]').click()
  await page.getByText('email').first().waitFor({ state: 'visible' })
  t.equal(new URL(page.url()).origin, w.issuer, 'the consent page is served by the issuer')
  const text = await page.locator('body').innerText()
  for (const scope of ['profile', 'email']) t.match(text, new RegExp(scope, 'i'), `consent page lists ${scope}`)
  t.same(w.redirect.pending(), [], 'nothing reached the redirect URI before consent')
}
