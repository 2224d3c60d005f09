// issue 10 acceptance, part 2: what must fail in the browser flow, failing as RFC 6749 §4.1.2.1,
// RFC 7636 and RFC 6749 §4.1.2 (code replay) say, in Debian's Chromium driven by playwright-core.
import * as oidc from 'openid-client'
import t from 'tap'
import {
  ALICE, authorizationRequest, checkAndCapture, exchangeCode, expectErrorResponse, expectLoginForm,
  loginToCallback, navigateToCallback, rejectsWithOAuthError, startAuthWorld, submitLogin,
} from '../helpers/authorization.js'
import { backends } from '../helpers/backends.js'
import { fixedClock } from '../helpers/clock.js'
import { launchChromium, newBrowserContext } from '../helpers/chromium.js'
import { sigilHttp } from '../helpers/sigil-http.js'

const browser = await launchChromium(t)
/** RATE_LIMIT_USER_FAILURES for these tests: back-off starts after this many failed logins of one username. */
const USER_FAILURES = 3

for (const [index, backend] of backends().entries()) {
  const capture = index === 0
  t.test(backend.name, async t => {
    // The server's clock stands still, so a back-off window never runs out under a slow machine.
    const w = await startAuthWorld(t, backend, { config: { rateLimitUserFailures: USER_FAILURES }, clock: fixedClock() })
    // A browser with a session, made before any subtest runs: each authorization below returns at once.
    const { page } = await newBrowserContext(t, browser)
    const first = await authorizationRequest(w.web, w.uris.web)
    await page.goto(first.url.href)
    const firstCallback = await loginToCallback(page, w.redirect, ALICE)
    const codeFor = async (config: oidc.Configuration, redirectUri: string) => {
      const req = await authorizationRequest(config, redirectUri)
      return { req, callback: await navigateToCallback(page, w.redirect, req.url) }
    }

    t.test('issue 10: a replayed code is invalid_grant and the tokens issued from it stop working', async t => {
      const tokens = await exchangeCode(w.web, first, firstCallback)
      t.equal((await oidc.tokenIntrospection(w.web, tokens.access_token)).active, true, 'active before the replay')
      await rejectsWithOAuthError(t, exchangeCode(w.web, first, firstCallback), 'invalid_grant', 'second use of the code')
      t.same(await oidc.tokenIntrospection(w.web, tokens.access_token), { active: false }, 'its access token is revoked')
      await rejectsWithOAuthError(t, oidc.refreshTokenGrant(w.web, tokens.refresh_token!), 'invalid_grant', 'its refresh family is revoked')
    })

    t.test('issue 10: a wrong code_verifier is invalid_grant', async t => {
      const { req, callback } = await codeFor(w.spa, w.uris.spa)
      await rejectsWithOAuthError(t, exchangeCode(w.spa, { ...req, verifier: oidc.randomPKCECodeVerifier() }, callback), 'invalid_grant')
    })

    t.test('issue 10: a code of client A presented by client B is invalid_grant', async t => {
      const { req, callback } = await codeFor(w.spa, w.uris.spa)
      // `web` authenticates with its own secret and sends the spa's redirect_uri and verifier.
      await rejectsWithOAuthError(t, exchangeCode(w.web, req, callback), 'invalid_grant')
    })

    for (const c of [
      { name: 'a missing code_challenge', edit: (u: URL) => { u.searchParams.delete('code_challenge'); u.searchParams.delete('code_challenge_method') } },
      { name: 'code_challenge_method=plain', edit: (u: URL) => u.searchParams.set('code_challenge_method', 'plain') },
      { name: 'response_type=token', edit: (u: URL) => u.searchParams.set('response_type', 'token'), error: 'unsupported_response_type' },
      { name: 'a scope the client may not have', edit: (u: URL) => u.searchParams.set('scope', 'openid admin'), error: 'invalid_scope' },
    ]) {
      t.test(`issue 10: ${c.name} is redirected to the client as ${c.error ?? 'invalid_request'} with state and iss`, async t => {
        const req = await authorizationRequest(w.spa, w.uris.spa)
        c.edit(req.url)
        const callback = await navigateToCallback(page, w.redirect, req.url)
        expectErrorResponse(t, callback, req, w.issuer, c.error ?? 'invalid_request')
      })
    }

    for (const c of [
      { name: 'an unregistered redirect_uri', screenshot: 'error', edit: (u: URL) => u.searchParams.set('redirect_uri', `${w.redirect.origin}/evil/callback`) },
      { name: 'an unknown client_id', edit: (u: URL) => u.searchParams.set('client_id', 'nobody') },
    ]) {
      t.test(`issue 10: ${c.name} is shown on Sigil's error page, never redirected`, async t => {
        const req = await authorizationRequest(w.spa, w.uris.spa)
        c.edit(req.url)
        const response = await page.goto(req.url.href)
        t.equal(response?.status(), 400, 'an error page with status 400')
        t.equal(new URL(page.url()).origin, w.issuer, 'the browser stays on the issuer')
        t.same(w.redirect.pending(), [], 'nothing reached the redirect server')
        t.notOk(await page.locator('input[name="password"]').count(), 'no login form on the error page')
        await checkAndCapture(t, page, c.screenshot ?? 'unused', capture && c.screenshot !== undefined)
      })
    }

    t.test('issue 10: a wrong password shows an announced error on the login page and issues no code', async t => {
      const { page } = await newBrowserContext(t, browser)
      const alerts: string[] = []
      for (const user of [{ username: 'nobody', password: 'not the password' }, { ...ALICE, password: 'not the password' }]) {
        const req = await authorizationRequest(w.spa, w.uris.spa)
        await page.goto(req.url.href)
        await submitLogin(page, user)
        const alert = page.getByRole('alert')
        await alert.waitFor({ state: 'visible' })
        alerts.push((await alert.innerText()).trim())
        await expectLoginForm(t, page, w.issuer)
        t.same(w.redirect.pending(), [], 'nothing reached the redirect URI')
      }
      t.ok(alerts[0], 'the error has text')
      t.equal(alerts[0], alerts[1], 'the same message for an unknown user and a wrong password')
      if (capture) await checkAndCapture(t, page, 'login-error', true)
    })

    t.test('issue 10: the per-username back-off of the password grant applies to the login page', async t => {
      const bob = { username: 'bob', password: 'bob-has-a-long-password-0123' }
      await sigilHttp(w.issuer).createUser(bob)
      const { page } = await newBrowserContext(t, browser)
      const answers: Array<{ status: number; alert: string }> = []
      for (const password of [...Array.from({ length: USER_FAILURES }, (_, i) => `wrong ${i}`), bob.password]) {
        await page.goto((await authorizationRequest(w.spa, w.uris.spa)).url.href)
        const posted = page.waitForResponse(r => r.request().method() === 'POST')
        await submitLogin(page, { username: bob.username, password })
        const status = (await posted).status()
        await page.waitForLoadState()
        const alert = page.getByRole('alert')
        answers.push({ status, alert: await alert.count() ? await alert.innerText() : `(no alert) ${await page.locator('body').innerText()}` })
      }
      const last = answers.at(-1)!
      t.equal(last.status, 429, 'the next attempt, even with the right password, is refused with 429', { answers })
      t.match(last.alert, /try again/i, 'the page says to wait', { answers })
      t.notOk(answers.slice(0, -1).some(a => a.status === 429), 'the failures before it were not throttled', { answers })
      t.same(w.redirect.pending(), [], 'no code')
    })
  })
}
