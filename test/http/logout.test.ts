import t from 'tap'
import { adminRequest, buildTestApp, createUser, PASSWORD, postToken } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import {
  authorizePath, Browser, exchangeCode, hiddenFields, pkcePair, redirectQuery, registerCodeClients, SPA_CB, SPA_LOGOUT, TP_CB,
} from '../helpers/browser.js'

const ISSUER = 'https://sigil.example'
const SESSION_COOKIE = '__Host-sigil_session'

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, clock, services } = await buildTestApp(t, backend, { config: { issuer: ISSUER } })
    await registerCodeClients(payload => adminRequest(app, 'POST', '/admin/clients', payload))
    await createUser(app, { username: 'alice', password: PASSWORD })

    const authorizeSpa = (browser: Browser, over: Record<string, string> = {}) => {
      const { verifier, challenge } = pkcePair()
      const path = authorizePath({ response_type: 'code', client_id: 'spa', redirect_uri: SPA_CB, scope: 'openid', state: 's', code_challenge: challenge, code_challenge_method: 'S256', ...over })
      return { verifier, response: browser.get(path) }
    }
    /** Logs in through the form and exchanges the code: the browser then has a session, the app tokens. */
    const loggedIn = async () => {
      const browser = new Browser(app)
      const { verifier, response } = authorizeSpa(browser)
      const page = await response
      const r = await browser.post('/oauth2/authorize/login', { ...hiddenFields(page.body), username: 'alice', password: PASSWORD })
      const tokens = (await exchangeCode(app, { code: redirectQuery(r).code!, redirect_uri: SPA_CB, code_verifier: verifier, client_id: 'spa' })).json()
      return { browser, tokens }
    }
    const promptNone = async (browser: Browser) => redirectQuery(await authorizeSpa(browser, { prompt: 'none' }).response)
    const refreshWorks = async (refreshToken: string) =>
      (await postToken(app, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'spa' })).statusCode === 200

    t.test('issue 10: with an https issuer the SSO cookie is __Host- prefixed and Secure', async t => {
      const browser = new Browser(app)
      const page = await authorizeSpa(browser).response
      const r = await browser.post('/oauth2/authorize/login', { ...hiddenFields(page.body), username: 'alice', password: PASSWORD })
      const cookie = ([] as string[]).concat(r.headers['set-cookie'] ?? []).find(c => c.startsWith(`${SESSION_COOKIE}=`))
      t.ok(cookie)
      t.match(cookie, /; Path=\/; HttpOnly; SameSite=Lax; Secure/)
      t.notMatch(cookie, /Domain=/)
      t.ok(browser.cookies.has('__Host-sigil_csrf'))
    })

    t.test('issue 10: logout with id_token_hint ends the session and its refresh families, then returns with state', async t => {
      const { browser, tokens } = await loggedIn()
      t.ok(await promptNone(browser).then(q => q.code), 'SSO works before')
      t.ok(await refreshWorks(tokens.refresh_token))
      const r = await browser.get(`/oauth2/logout?${new URLSearchParams({ id_token_hint: tokens.id_token, post_logout_redirect_uri: SPA_LOGOUT, state: 'bye-1' })}`)
      t.equal(r.statusCode, 303)
      t.equal(r.headers.location, `${SPA_LOGOUT}?state=bye-1`)
      t.notOk(browser.cookies.has(SESSION_COOKIE), 'the cookie is cleared')
      t.equal((await promptNone(browser)).error, 'login_required')
      const late = await postToken(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'spa' })
      t.equal(late.json().error, 'invalid_grant', 'the family born from the session ended')
    })

    t.test('issue 10: a code whose login session was logged out before the exchange is invalid_grant', async t => {
      const browser = new Browser(app)
      const { verifier, response } = authorizeSpa(browser)
      const page = await response
      const r = await browser.post('/oauth2/authorize/login', { ...hiddenFields(page.body), username: 'alice', password: PASSWORD })
      const out = await browser.get('/oauth2/logout')
      await browser.post('/oauth2/logout', hiddenFields(out.body))
      const late = await exchangeCode(app, { code: redirectQuery(r).code!, redirect_uri: SPA_CB, code_verifier: verifier, client_id: 'spa' })
      t.equal(late.json().error, 'invalid_grant')
    })

    t.test('issue 10: an expired id_token_hint still identifies the client', async t => {
      const { browser, tokens } = await loggedIn()
      clock.advance(24 * 3600 * 1000)
      const r = await browser.get(`/oauth2/logout?${new URLSearchParams({ id_token_hint: tokens.id_token, post_logout_redirect_uri: SPA_LOGOUT })}`)
      t.equal(r.headers.location, SPA_LOGOUT)
    })

    t.test('issue 10: without a hint the user confirms with a CSRF-protected form first', async t => {
      const { browser, tokens } = await loggedIn()
      const page = await browser.get(`/oauth2/logout?${new URLSearchParams({ client_id: 'spa', post_logout_redirect_uri: SPA_LOGOUT, state: 'x' })}`)
      t.equal(page.statusCode, 200)
      t.match(page.body, /<form method="post" action="\/oauth2\/logout">/)
      t.match(page.body, /<button type="submit"/)
      t.ok(await promptNone(browser).then(q => q.code), 'nothing ended yet')
      const forged = await browser.post('/oauth2/logout', { ...hiddenFields(page.body), csrf_token: 'A'.repeat(43) })
      t.equal(forged.statusCode, 403)
      t.ok(await refreshWorks(tokens.refresh_token), 'a forged post ends nothing')
      const r = await browser.post('/oauth2/logout', { ...hiddenFields(page.body), logout: 'yes' })
      t.equal(r.statusCode, 303)
      t.equal(r.headers.location, `${SPA_LOGOUT}?state=x`)
      t.equal((await promptNone(browser)).error, 'login_required')
    })

    t.test('issue 10: with neither hint nor return address, logout ends on Sigil\'s own page', async t => {
      const { browser } = await loggedIn()
      const page = await browser.get('/oauth2/logout')
      const r = await browser.post('/oauth2/logout', hiddenFields(page.body))
      t.equal(r.statusCode, 200)
      t.match(r.body, /You are signed out/)
      t.equal((await promptNone(browser)).error, 'login_required')
    })

    t.test('issue 10: revoking a user\'s tokens (admin) also ends their browser login sessions', async t => {
      const { browser } = await loggedIn()
      const userId = (await services.users.repo.findByUsername('alice'))!.id
      const r = await adminRequest(app, 'POST', `/admin/users/${userId}/revoke-tokens`)
      t.equal(r.json().ended_login_sessions, 1)
      t.equal((await promptNone(browser)).error, 'login_required')
    })

    t.test('issue 10: an admin revokes a remembered consent; the consent page comes back', async t => {
      await createUser(app, { username: 'carol', password: PASSWORD })
      const browser = new Browser(app)
      const { challenge } = pkcePair()
      const path = authorizePath({ response_type: 'code', client_id: 'tp', redirect_uri: TP_CB, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' })
      const login = await browser.get(path)
      const consent = await browser.post('/oauth2/authorize/login', { ...hiddenFields(login.body), username: 'carol', password: PASSWORD })
      await browser.post('/oauth2/authorize/consent', { ...hiddenFields(consent.body), decision: 'allow' })
      t.equal((await browser.get(path)).statusCode, 303, 'remembered')
      const carol = (await services.users.repo.findByUsername('carol'))!.id
      t.equal((await adminRequest(app, 'DELETE', `/admin/users/${carol}/consents/tp`)).statusCode, 204)
      t.equal((await browser.get(path)).statusCode, 200, 'asked again')
      t.equal((await adminRequest(app, 'DELETE', '/admin/users/nobody/consents/tp')).statusCode, 404)
    })

    for (const c of [
      { name: 'an unregistered post_logout_redirect_uri', query: (hint: string) => ({ id_token_hint: hint, post_logout_redirect_uri: 'https://evil.example/' }) },
      { name: 'a post_logout_redirect_uri without a client', query: () => ({ post_logout_redirect_uri: SPA_LOGOUT }) },
      { name: 'another client\'s post_logout_redirect_uri', query: () => ({ client_id: 'web', post_logout_redirect_uri: SPA_LOGOUT }) },
      { name: 'a forged id_token_hint', query: (hint: string) => ({ id_token_hint: hint.slice(0, -4) + 'AAAA', post_logout_redirect_uri: SPA_LOGOUT }) },
      { name: 'an access token as id_token_hint', query: (_hint: string, access: string) => ({ id_token_hint: access, post_logout_redirect_uri: SPA_LOGOUT }) },
    ]) {
      t.test(`issue 10: ${c.name} is an error page, never a redirect, and logs nobody out`, async t => {
        const { browser, tokens } = await loggedIn()
        const r = await browser.get(`/oauth2/logout?${new URLSearchParams(c.query(tokens.id_token, tokens.access_token))}`)
        t.equal(r.statusCode, 400)
        t.equal(r.headers.location, undefined)
        t.match(r.body, /role="alert"/)
        t.ok(await promptNone(browser).then(q => q.code), 'still logged in')
      })
    }
  })
}
