import { createLocalJWKSet, jwtVerify } from 'jose'
import t from 'tap'
import { adminRequest, basic, buildTestApp, createUser, PASSWORD, postToken } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import {
  authorizePath, Browser, exchangeCode, hiddenFields, pkcePair, redirectQuery, registerCodeClients, SPA_CB, TP_CB, WEB_CB, WEB_CODE_SECRET,
} from '../helpers/browser.js'

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, services, clock } = await buildTestApp(t, backend)
    const issuer = services.config.issuer
    await registerCodeClients(payload => adminRequest(app, 'POST', '/admin/clients', payload))
    const aliceId = await createUser(app, { username: 'alice', password: PASSWORD, email: 'alice@example.com' })
    await createUser(app, { username: 'bob', password: PASSWORD })

    const start = (over: Record<string, string | undefined> = {}) => {
      const { verifier, challenge } = pkcePair()
      const params = {
        response_type: 'code', client_id: 'spa', redirect_uri: SPA_CB, scope: 'openid profile', state: 'st-1', nonce: 'n-1',
        code_challenge: challenge, code_challenge_method: 'S256', ...over,
      }
      return { verifier, params, path: authorizePath(params) }
    }
    /** Authorizes in `browser`, logging in through the form when it is shown; returns the redirect. */
    const authorize = async (browser: Browser, path: string, username = 'alice') => {
      const first = await browser.get(path)
      if (first.statusCode !== 200) return first
      return browser.post('/oauth2/authorize/login', { ...hiddenFields(first.body), username, password: PASSWORD })
    }
    const codeFlow = async (browser = new Browser(app), over: Record<string, string | undefined> = {}) => {
      const s = start(over)
      const r = await authorize(browser, s.path)
      const q = redirectQuery(r)
      return { browser, ...s, code: q.code!, query: q, tokens: () => exchangeCode(app, { code: q.code!, redirect_uri: s.params.redirect_uri!, code_verifier: s.verifier, client_id: 'spa' }) }
    }
    const verifyIdToken = (token: string, audience: string) => jwtVerify(token, createLocalJWKSet(JSON.parse(services.ring.jwks().body)), {
      issuer, audience, typ: 'JWT', currentDate: new Date(clock.now()),
    })
    const userinfo = (token: string) => app.inject({ method: 'GET', url: '/userinfo', headers: { authorization: `Bearer ${token}` } })

    t.test('issue 10: the login page is a labelled form that works without JavaScript, under a strict CSP', async t => {
      const r = await new Browser(app).get(start().path)
      t.equal(r.statusCode, 200)
      t.match(r.headers['content-type'], /^text\/html/)
      t.match(r.body, /<input id="username" name="username" type="text"/)
      t.match(r.body, /<input id="password" name="password" type="password"/)
      t.match(r.body, /<label for="username">/)
      t.match(r.body, /<label for="password">/)
      t.match(r.body, /<button type="submit">/)
      t.match(r.body, /<meta name="viewport" content="width=device-width, initial-scale=1">/)
      t.notMatch(r.body, /<script|style=/i, 'no script and no inline style')
      const csp = String(r.headers['content-security-policy'])
      t.match(csp, /default-src 'none'/)
      t.match(csp, /style-src 'self'/)
      t.match(csp, /frame-ancestors 'none'/)
      t.match(csp, /form-action 'self' https:\/\/app\.example\.com/)
      t.equal(r.headers['cache-control'], 'no-store')
      const css = await app.inject({ method: 'GET', url: '/oauth2/assets/sigil.css' })
      t.equal(css.statusCode, 200)
      t.match(css.body, /--accent:#2454d6/)
    })

    t.test('issue 10: login, code with state and iss, exchange with PKCE: tokens with nonce and auth_time, and a refresh that works', async t => {
      const authTime = Math.floor(clock.now() / 1000)
      const flow = await codeFlow()
      t.same(Object.keys(flow.query).sort(), ['code', 'iss', 'state'])
      t.equal(flow.query.state, 'st-1')
      t.equal(flow.query.iss, issuer)
      t.ok(flow.code.length >= 43, 'at least 256 bits')
      const session = [...flow.browser.cookies.keys()]
      t.ok(session.includes('sigil_session'), 'http issuer: no __Host- prefix')
      const r = await flow.tokens()
      t.equal(r.statusCode, 200, r.body)
      const body = r.json()
      t.ok(body.refresh_token)
      const { payload } = await verifyIdToken(body.id_token, 'spa')
      t.equal(payload.nonce, 'n-1')
      t.equal(payload.auth_time, authTime)
      t.equal(payload.sub, aliceId)
      t.equal(payload.preferred_username, 'alice')
      t.equal((await userinfo(body.access_token)).statusCode, 200)
      const refreshed = await postToken(app, { grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: 'spa' })
      t.equal(refreshed.statusCode, 200, refreshed.body)
    })

    t.test('issue 10: the session cookie is HttpOnly and SameSite=Lax', async t => {
      const b = new Browser(app)
      const page = await b.get(start().path)
      const r = await app.inject({
        method: 'POST', url: '/oauth2/authorize/login', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `sigil_csrf=${b.cookies.get('sigil_csrf')}` },
        payload: new URLSearchParams({ ...hiddenFields(page.body), username: 'alice', password: PASSWORD }).toString(),
      })
      const cookie = ([] as string[]).concat(r.headers['set-cookie'] ?? []).find(c => c.startsWith('sigil_session='))!
      t.match(cookie, /; HttpOnly/)
      t.match(cookie, /; SameSite=Lax/)
      t.match(cookie, /; Path=\//)
      t.notMatch(cookie, /Domain=/)
    })

    t.test('issue 10: a second authorization in the same browser skips the form; prompt=login and max_age=0 show it again', async t => {
      const { browser } = await codeFlow()
      const again = await browser.get(start().path)
      t.equal(again.statusCode, 303)
      t.ok(redirectQuery(again).code)
      for (const over of [{ prompt: 'login' }, { max_age: '0' }]) {
        const r = await browser.get(start(over).path)
        t.equal(r.statusCode, 200, JSON.stringify(over))
        t.match(r.body, /name="password"/)
      }
      clock.advance(120_000)
      t.equal((await browser.get(start({ max_age: '60' }).path)).statusCode, 200, 'login older than max_age')
      t.equal((await browser.get(start({ max_age: '3600' }).path)).statusCode, 303, 'login within max_age')
      const logged = await authorize(browser, start({ prompt: 'login' }).path)
      t.equal(logged.statusCode, 303, 'after the forced login the code comes')
      t.ok(redirectQuery(logged).code)
    })

    t.test('issue 10: prompt=none without a session is login_required at the redirect URI, with state and iss', async t => {
      const r = await new Browser(app).get(start({ prompt: 'none' }).path)
      t.equal(r.statusCode, 303)
      t.ok(String(r.headers.location).startsWith(SPA_CB + '?'))
      t.same(redirectQuery(r), { error: 'login_required', error_description: 'the user must log in', state: 'st-1', iss: issuer })
    })

    for (const c of [
      { name: 'response_type=token', over: { response_type: 'token' }, error: 'unsupported_response_type' },
      { name: 'no response_type', over: { response_type: undefined }, error: 'invalid_request' },
      { name: 'response_mode=fragment', over: { response_mode: 'fragment' }, error: 'invalid_request' },
      { name: 'a missing code_challenge', over: { code_challenge: undefined, code_challenge_method: undefined }, error: 'invalid_request' },
      { name: 'code_challenge_method=plain', over: { code_challenge_method: 'plain' }, error: 'invalid_request' },
      { name: 'no code_challenge_method (plain by default)', over: { code_challenge_method: undefined }, error: 'invalid_request' },
      { name: 'a scope the client may not have', over: { scope: 'openid admin' }, error: 'invalid_scope' },
      { name: 'prompt=none login', over: { prompt: 'none login' }, error: 'invalid_request' },
      { name: 'a malformed max_age', over: { max_age: '-1' }, error: 'invalid_request' },
    ]) {
      t.test(`issue 10: ${c.name} is ${c.error} at the redirect URI`, async t => {
        const r = await new Browser(app).get(start(c.over).path)
        t.equal(r.statusCode, 303, r.body)
        t.equal(redirectQuery(r).error, c.error)
        t.equal(redirectQuery(r).state, 'st-1')
        t.equal(redirectQuery(r).iss, issuer)
      })
    }

    for (const c of [
      { name: 'an unknown client_id', over: { client_id: 'nobody' } },
      { name: 'no client_id', over: { client_id: undefined } },
      { name: 'an unregistered redirect_uri', over: { redirect_uri: 'https://evil.example/cb' } },
      { name: 'a redirect_uri that only starts like a registered one', over: { redirect_uri: SPA_CB + '/x' } },
      { name: 'no redirect_uri', over: { redirect_uri: undefined } },
      { name: 'another client\'s redirect_uri', over: { redirect_uri: WEB_CB } },
    ]) {
      t.test(`issue 10: ${c.name} is shown on Sigil's error page and never redirected`, async t => {
        const r = await new Browser(app).get(start(c.over).path)
        t.equal(r.statusCode, 400)
        t.equal(r.headers.location, undefined)
        t.match(r.headers['content-type'], /^text\/html/)
        t.match(r.body, /role="alert"/)
        t.match(String(r.headers['content-security-policy']), /default-src 'none'/)
      })
    }

    t.test('issue 10: PKCE at the token endpoint: a wrong verifier, a malformed one, a missing one fail', async t => {
      const wrong = await codeFlow()
      const r = await exchangeCode(app, { code: wrong.code, redirect_uri: SPA_CB, code_verifier: pkcePair().verifier, client_id: 'spa' })
      t.equal(r.statusCode, 400)
      t.equal(r.json().error, 'invalid_grant')
      const other = await codeFlow()
      for (const verifier of ['short', '']) {
        const bad = await exchangeCode(app, { code: other.code, redirect_uri: SPA_CB, code_verifier: verifier, client_id: 'spa' })
        t.equal(bad.json().error, 'invalid_request', `verifier ${JSON.stringify(verifier)}`)
      }
      t.equal((await other.tokens()).statusCode, 200, 'a malformed verifier does not burn the code')
    })

    t.test('issue 10: a code of client A is invalid_grant at client B, and a changed redirect_uri too', async t => {
      const a = await codeFlow()
      const atWeb = await exchangeCode(app, { code: a.code, redirect_uri: SPA_CB, code_verifier: a.verifier }, basic('web', WEB_CODE_SECRET))
      t.equal(atWeb.statusCode, 400)
      t.equal(atWeb.json().error, 'invalid_grant')
      const b = await codeFlow()
      const moved = await exchangeCode(app, { code: b.code, redirect_uri: 'com.example.app:/cb', code_verifier: b.verifier, client_id: 'spa' })
      t.equal(moved.json().error, 'invalid_grant')
    })

    t.test('issue 10: a confidential client must authenticate to exchange its code', async t => {
      const browser = new Browser(app)
      const { verifier, challenge } = pkcePair()
      const r = await authorize(browser, authorizePath({ response_type: 'code', client_id: 'web', redirect_uri: WEB_CB, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' }))
      const code = redirectQuery(r).code!
      const anonymous = await exchangeCode(app, { code, redirect_uri: WEB_CB, code_verifier: verifier, client_id: 'web' })
      t.equal(anonymous.statusCode, 401)
      t.equal(anonymous.json().error, 'invalid_client')
      const ok = await exchangeCode(app, { code, redirect_uri: WEB_CB, code_verifier: verifier }, basic('web', WEB_CODE_SECRET))
      t.equal(ok.statusCode, 200, ok.body)
      t.notOk(ok.json().refresh_token, 'not registered for refresh_token')
    })

    t.test('issue 10: a replayed code is invalid_grant and the tokens of its first exchange stop working', async t => {
      const flow = await codeFlow()
      const first = (await flow.tokens()).json()
      t.equal((await userinfo(first.access_token)).statusCode, 200)
      const replay = await flow.tokens()
      t.equal(replay.statusCode, 400)
      t.equal(replay.json().error, 'invalid_grant')
      t.equal((await userinfo(first.access_token)).statusCode, 401, 'the access token is denylisted')
      const refresh = await postToken(app, { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: 'spa' })
      t.equal(refresh.json().error, 'invalid_grant', 'the refresh family is revoked')
    })

    t.test('issue 10: a code lives at most 60 s', async t => {
      const flow = await codeFlow()
      clock.advance(60_001)
      t.equal((await flow.tokens()).json().error, 'invalid_grant')
    })

    t.test('issue 10: a wrong password shows one generic error (role=alert) and issues no code', async t => {
      const browser = new Browser(app)
      const page = await browser.get(start().path)
      for (const [username, password] of [['alice', 'wrong password here'], ['nobody-here', PASSWORD]]) {
        const r = await browser.post('/oauth2/authorize/login', { ...hiddenFields(page.body), username: username!, password: password! })
        t.equal(r.statusCode, 400)
        t.equal(r.headers.location, undefined)
        t.match(r.body, /<p class="alert" role="alert">Wrong username or password\.<\/p>/)
        t.match(r.body, /name="password"/, 'the form again')
      }
      t.notOk(browser.cookies.has('sigil_session'))
    })

    t.test('issue 10: too many failures for a username is a friendly 429 page with Retry-After', async t => {
      await createUser(app, { username: 'victim', password: PASSWORD })
      const browser = new Browser(app)
      const page = await browser.get(start().path)
      let r
      for (let i = 0; i <= services.config.rateLimitUserFailures; i++) {
        r = await browser.post('/oauth2/authorize/login', { ...hiddenFields(page.body), username: 'victim', password: 'not the password' })
      }
      t.equal(r!.statusCode, 429)
      t.ok(Number(r!.headers['retry-after']) >= 1)
      t.match(r!.body, /role="alert">Too many attempts/)
    })

    t.test('issue 10: a login post without the CSRF token of its page is refused', async t => {
      const browser = new Browser(app)
      const page = await browser.get(start().path)
      const fields = hiddenFields(page.body)
      const forged = await browser.post('/oauth2/authorize/login', { ...fields, csrf_token: 'A'.repeat(43), username: 'alice', password: PASSWORD })
      t.equal(forged.statusCode, 403)
      t.equal(forged.headers.location, undefined)
      const otherBrowser = new Browser(app)
      const crossSite = await otherBrowser.post('/oauth2/authorize/login', { ...fields, username: 'alice', password: PASSWORD })
      t.equal(crossSite.statusCode, 403, 'the token without its cookie')
      const unknown = await browser.post('/oauth2/authorize/login', { ...fields, interaction: 'B'.repeat(22), username: 'alice', password: PASSWORD })
      t.equal(unknown.statusCode, 400)
    })

    t.test('issue 10: login_hint and state are escaped, never markup', async t => {
      const xss = '"><script>alert(1)</script>'
      const r = await new Browser(app).get(start({ login_hint: xss, state: xss }).path)
      t.equal(r.statusCode, 200)
      t.notMatch(r.body, /<script/)
      t.match(r.body, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/)
      const denied = await new Browser(app).get(start({ prompt: 'none', state: xss }).path)
      t.equal(redirectQuery(denied).state, xss, 'state is echoed exactly, URL-encoded')
      const page = await new Browser(app).get(authorizePath({ client_id: '<b>x</b>', redirect_uri: SPA_CB }))
      t.notMatch(page.body, /<b>x/)
    })

    t.test('issue 10: a third-party client gets a consent page; consent is remembered; prompt=none without it is consent_required', async t => {
      const tp = (over: Record<string, string> = {}) => start({ client_id: 'tp', redirect_uri: TP_CB, ...over })
      const browser = new Browser(app)
      const none = await authorize(browser, tp({ prompt: 'none' }).path)
      t.equal(redirectQuery(none).error, 'login_required')
      const consent = await authorize(browser, tp().path, 'bob')
      t.equal(consent.statusCode, 200)
      t.match(consent.body, /Allow access\?/)
      t.match(consent.body, /<code>openid<\/code>/)
      t.match(consent.body, /<code>profile<\/code>/)
      t.match(String(consent.headers['content-security-policy']), /form-action 'self' http:\/\/127\.0\.0\.1:8123/)
      t.equal(redirectQuery(await browser.get(tp({ prompt: 'none' }).path)).error, 'consent_required')
      const allowed = await browser.post('/oauth2/authorize/consent', { ...hiddenFields(consent.body), decision: 'allow' })
      t.equal(allowed.statusCode, 303)
      t.ok(redirectQuery(allowed).code)
      t.ok(redirectQuery(await browser.get(tp({ prompt: 'none' }).path)).code, 'remembered')
      t.equal((await browser.get(tp({ scope: 'openid email' }).path)).statusCode, 200, 'a new scope asks again')
      const asked = await browser.get(tp({ prompt: 'consent' }).path)
      t.equal(asked.statusCode, 200, 'prompt=consent asks again')
      const denied = await browser.post('/oauth2/authorize/consent', { ...hiddenFields(asked.body), decision: 'deny' })
      t.same(redirectQuery(denied), { error: 'access_denied', error_description: 'the user denied the request', state: 'st-1', iss: issuer })
      await services.store.revokeConsent(await idOf('bob'), 'tp')
      t.equal((await browser.get(tp().path)).statusCode, 200, 'after revocation the consent page again')
    })

    const idOf = async (username: string) => (await services.users.repo.findByUsername(username))!.id

    t.test('issue 10: a client not registered for authorization_code is unauthorized_client', async t => {
      await adminRequest(app, 'POST', '/admin/clients', {
        client_id: 'svc', token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], redirect_uris: ['https://svc.example/cb'],
      })
      const r = await new Browser(app).get(start({ client_id: 'svc', redirect_uri: 'https://svc.example/cb' }).path)
      t.equal(redirectQuery(r).error, 'unauthorized_client')
    })

    t.test('issue 10: discovery lists the authorization and logout endpoints and what they support', async t => {
      const doc = (await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json()
      t.equal(doc.authorization_endpoint, `${issuer}/oauth2/authorize`)
      t.equal(doc.end_session_endpoint, `${issuer}/oauth2/logout`)
      t.same(doc.response_types_supported, ['code'])
      t.same(doc.response_modes_supported, ['query'])
      t.same(doc.code_challenge_methods_supported, ['S256'])
      t.ok(doc.grant_types_supported.includes('authorization_code'))
      t.equal(doc.authorization_response_iss_parameter_supported, true)
      t.equal(doc.claims_parameter_supported, false)
    })
  })
}
