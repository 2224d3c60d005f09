import t from 'tap'
import { adminRequest, buildTestApp } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

const base = { token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], scopes: ['openid'] }

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app } = await buildTestApp(t, backend)

    t.test('issue 10: a client takes redirect URIs, logout URIs and a consent mode, and shows them', async t => {
      const uris = ['https://app.example.com/cb', 'http://127.0.0.1:8123/cb', 'http://[::1]/cb', 'http://localhost:5173/cb', 'com.example.app:/cb']
      const r = await adminRequest(app, 'POST', '/admin/clients', {
        ...base, client_id: 'spa', redirect_uris: uris, post_logout_redirect_uris: ['https://app.example.com/'], consent: 'third_party',
      })
      t.equal(r.statusCode, 201, r.body)
      const got = (await adminRequest(app, 'GET', '/admin/clients/spa')).json()
      t.same(got.redirect_uris, uris)
      t.same(got.post_logout_redirect_uris, ['https://app.example.com/'])
      t.equal(got.consent, 'third_party')
      const plain = await adminRequest(app, 'POST', '/admin/clients', { ...base, client_id: 'default', redirect_uris: ['https://a.example/cb'] })
      t.equal(plain.json().consent, 'first_party', 'first-party by default')
      t.same(plain.json().post_logout_redirect_uris, [])
    })

    for (const c of [
      { name: 'plain http on a public host', uri: 'http://app.example.com/cb', reason: /loopback/ },
      { name: 'a fragment', uri: 'https://app.example.com/cb#x', reason: /fragment/ },
      { name: 'a relative URI', uri: '/cb', reason: /absolute/ },
      { name: 'javascript:', uri: 'javascript:alert(1)', reason: /javascript/ },
      { name: 'data:', uri: 'data:text/html,hi', reason: /data/ },
      { name: 'a scheme that is no reversed domain', uri: 'myapp:/cb', reason: /private-use/ },
      { name: 'whitespace', uri: 'https://app.example.com/c b', reason: /whitespace/ },
    ]) {
      t.test(`issue 10: a redirect URI with ${c.name} is 400 with the reason`, async t => {
        for (const field of ['redirect_uris', 'post_logout_redirect_uris']) {
          const r = await adminRequest(app, 'POST', '/admin/clients', { ...base, redirect_uris: ['https://ok.example/cb'], [field]: [c.uri] })
          t.equal(r.statusCode, 400, r.body)
          t.equal(r.json().error, 'invalid_request')
          t.match(r.json().error_description, c.reason)
          t.match(r.json().error_description, new RegExp(`^${field}\\.0: `))
        }
      })
    }

    t.test('issue 10: authorization_code without a redirect URI is 400; an unknown consent mode is 400', async t => {
      const none = await adminRequest(app, 'POST', '/admin/clients', base)
      t.equal(none.statusCode, 400)
      t.match(none.json().error_description, /redirect_uris: authorization_code needs at least one redirect URI/)
      const bad = await adminRequest(app, 'POST', '/admin/clients', { ...base, redirect_uris: ['https://a.example/cb'], consent: 'maybe' })
      t.equal(bad.statusCode, 400)
      t.match(bad.json().error_description, /^consent: /)
    })
  })
}
