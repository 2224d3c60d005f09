import t from 'tap'
import { backends } from '../helpers/backends.js'
import { adminRequest, buildTestApp } from '../helpers/app.js'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, services, clock } = await buildTestApp(t, backend, { config: { jwksMaxAgeSec: 120, keyLeadTimeSec: 420 } })

    t.test('publishes public members only, with a kid on every key', async t => {
      const r = await app.inject('/.well-known/jwks.json')
      t.equal(r.statusCode, 200)
      t.match(r.headers['content-type'], /^application\/jwk-set\+json/)
      t.equal(r.headers['cache-control'], 'public, max-age=120')
      const { keys } = r.json() as { keys: Array<Record<string, string>> }
      t.equal(keys.length, 4)
      for (const k of keys) {
        t.type(k.kid, 'string')
        t.equal(k.use, 'sig')
        for (const m of PRIVATE_MEMBERS) t.notOk(m in k, `no ${m}`)
        t.same(Object.keys(k).sort(), k.kty === 'EC' ? ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'] : ['alg', 'e', 'kid', 'kty', 'n', 'use'])
      }
    })

    t.test('?alg= serves one algorithm only; anything else is invalid_request', async t => {
      for (const alg of ['ES256', 'RS256']) {
        const { keys } = (await app.inject(`/.well-known/jwks.json?alg=${alg}`)).json() as { keys: Array<{ alg: string }> }
        t.equal(keys.length, 2)
        t.ok(keys.every(k => k.alg === alg))
      }
      const bad = await app.inject('/.well-known/jwks.json?alg=HS256')
      t.equal(bad.statusCode, 400)
      t.equal(bad.json().error, 'invalid_request')
    })

    t.test('ETag and 304; a key change changes the ETag', async t => {
      const first = await app.inject('/.well-known/jwks.json')
      const etag = first.headers.etag as string
      t.match(etag, /^"[\w-]+"$/)
      t.equal((await app.inject('/.well-known/jwks.json')).headers.etag, etag, 'stable while keys are')
      const cached = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': etag } })
      t.equal(cached.statusCode, 304)
      t.equal(cached.body, '')
      t.equal(cached.headers['cache-control'], 'public, max-age=120')
      t.equal((await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': '"other", W/' + etag } })).statusCode, 304)
      t.not((await app.inject('/.well-known/jwks.json?alg=ES256')).headers.etag, etag, 'each variant has its own')

      clock.advance(420 * 1000)
      t.equal((await adminRequest(app, 'POST', '/admin/keys/rotate', { alg: 'ES256' })).statusCode, 200)
      const after = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': etag } })
      t.equal(after.statusCode, 200)
      t.not(after.headers.etag, etag)
      t.equal(after.json().keys.length, 5, 'next, current and retiring ES256 keys, current and next RS256')
    })

    t.test('a revoked key is gone from the JWKS at once', async t => {
      const kid = services.ring.signingKey('RS256')!.kid
      t.match((await app.inject('/.well-known/jwks.json')).body, kid)
      const r = await adminRequest(app, 'POST', `/admin/keys/${kid}/revoke`)
      t.equal(r.statusCode, 200, r.body)
      t.equal(r.json().state, 'revoked')
      t.notMatch((await app.inject('/.well-known/jwks.json')).body, kid)
      t.notMatch((await app.inject('/.well-known/jwks.json?alg=RS256')).body, kid)
    })

    t.test('both discovery documents name every endpoint', async t => {
      for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
        const r = await app.inject(path)
        t.equal(r.statusCode, 200)
        const doc = r.json()
        t.equal(doc.issuer, services.config.issuer)
        t.equal(doc.jwks_uri, `${services.config.issuer}/.well-known/jwks.json`)
        t.equal(doc.token_endpoint, `${services.config.issuer}/oauth2/token`)
        for (const field of ['revocation_endpoint', 'introspection_endpoint', 'userinfo_endpoint', 'grant_types_supported',
          'token_endpoint_auth_methods_supported', 'scopes_supported', 'id_token_signing_alg_values_supported',
          'response_types_supported', 'subject_types_supported']) t.ok(field in doc, field)
        t.ok(doc.grant_types_supported.includes('client_credentials'))
        t.same(doc.id_token_signing_alg_values_supported, ['ES256', 'RS256'])
      }
    })

    t.test('health and readiness', async t => {
      t.equal((await app.inject('/healthz')).statusCode, 200)
      const ready = await app.inject('/readyz')
      t.equal(ready.statusCode, 200)
      t.same(ready.json().checks, { database: 'ok', store: 'ok', signing_key: 'ok' })
    })
  })
}
