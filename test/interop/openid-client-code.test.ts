import * as oidc from 'openid-client'
import t from 'tap'
import { adminRequest, createUser, PASSWORD } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { hiddenFields } from '../helpers/browser.js'
import { startTestServer } from '../helpers/server.js'

const CALLBACK = 'http://127.0.0.1:9/cb'

/** A cookie-keeping fetch that follows no redirect: the client app's view of the browser, minus JavaScript. */
function browserFetch() {
  const jar = new Map<string, string>()
  return async (url: string, init: { method?: string; form?: Record<string, string> } = {}) => {
    const r = await fetch(url, {
      method: init.method ?? 'GET', redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    })
    for (const line of r.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1))
    }
    return r
  }
}

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, issuer } = await startTestServer(t, backend)
    await adminRequest(app, 'POST', '/admin/clients', {
      client_id: 'spa', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'profile'], redirect_uris: [CALLBACK],
    })
    await createUser(app, { username: 'alice', password: PASSWORD })

    t.test('issue 10: openid-client, unmodified: PKCE, state and nonce; code exchange validates the ID token; refresh works', async t => {
      const config = await oidc.discovery(new URL(issuer), 'spa', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] })
      const pkceCodeVerifier = oidc.randomPKCECodeVerifier()
      const state = oidc.randomState()
      const nonce = oidc.randomNonce()
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: CALLBACK, scope: 'openid profile', state, nonce, max_age: '300',
        code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: 'S256',
      })
      const browser = browserFetch()
      const page = await browser(url.href)
      t.equal(page.status, 200)
      const login = await browser(`${issuer}/oauth2/authorize/login`, { method: 'POST', form: { ...hiddenFields(await page.text()), username: 'alice', password: PASSWORD } })
      t.equal(login.status, 303)
      const tokens = await oidc.authorizationCodeGrant(config, new URL(login.headers.get('location')!), {
        pkceCodeVerifier, expectedState: state, expectedNonce: nonce, maxAge: 300,
      })
      t.equal(tokens.claims()?.preferred_username, 'alice')
      t.ok(tokens.refresh_token)
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!)
      t.ok(refreshed.access_token)
      t.equal(refreshed.claims()?.sub, tokens.claims()?.sub)
    })
  })
}
