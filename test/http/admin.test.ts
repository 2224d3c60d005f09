import { SignJWT, generateKeyPair } from 'jose'
import t from 'tap'
import { signAccessToken } from '../../src/tokens/access-token.js'
import { backends } from '../helpers/backends.js'
import { ADMIN, adminRequest, adminToken, basic, buildTestApp, postToken } from '../helpers/app.js'

const SECRET = 'service-secret-0123456789-0123456789-abcdef'

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, services, clock } = await buildTestApp(t, backend)
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

    await adminRequest(app, 'POST', '/admin/clients', {
      client_id: 'reader', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'], scopes: ['read'],
    })
    const readerToken = async () => (await postToken(app, { grant_type: 'client_credentials' }, basic('reader', SECRET))).json().access_token as string

    const sign = async (claims: Record<string, unknown>, alg = 'ES256' as 'ES256' | 'RS256') => {
      const generations = { client: (await services.clients.repo.find('admin'))!.generation, store: await services.generation.current() }
      return signAccessToken(services, {
        sub: 'admin', clientId: 'admin', scope: ['admin'], audience: [services.config.issuer], ttlSec: 60, alg, profile: 'rfc9068', generations, ...claims,
      })
    }

    const forged = async () => {
      const { privateKey } = await generateKeyPair('ES256')
      return new SignJWT({ scope: 'admin', client_id: 'admin' }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: services.ring.signingKey('ES256')!.kid })
        .setIssuer(services.config.issuer).setSubject('admin').setAudience(services.config.issuer).setIssuedAt().setExpirationTime('1m').setJti('x').sign(privateKey)
    }

    const refusals: Array<{ name: string; headers: () => Promise<Record<string, string>>; status: number; error: string }> = [
      { name: 'no token', headers: async () => ({}), status: 401, error: 'invalid_token' },
      { name: 'a Basic header', headers: async () => basic('admin', 'x'), status: 401, error: 'invalid_token' },
      { name: 'garbage', headers: async () => bearer('not.a.token'), status: 401, error: 'invalid_token' },
      { name: 'a forged signature', headers: async () => bearer(await forged()), status: 401, error: 'invalid_token' },
      { name: 'a token for another audience', headers: async () => bearer((await sign({ audience: ['https://api.example'] })).token), status: 401, error: 'invalid_token' },
      { name: 'an expired token', headers: async () => {
        clock.advance(-3600 * 1000)
        const { token } = await sign({})
        clock.advance(3600 * 1000)
        return bearer(token)
      }, status: 401, error: 'invalid_token' },
      { name: 'a token without scope admin', headers: async () => bearer(await readerToken()), status: 403, error: 'insufficient_scope' },
    ]
    for (const c of refusals) {
      for (const [method, url] of [['GET', '/admin/keys'], ['POST', '/admin/keys/rotate'], ['GET', '/admin/clients'], ['DELETE', '/admin/clients/reader']] as const) {
        t.test(`${method} ${url} with ${c.name} → ${c.status}`, async t => {
          const r = await app.inject({ method, url, headers: await c.headers() })
          t.equal(r.statusCode, c.status, r.body)
          t.equal(r.json().error, c.error)
          if (c.status === 401) t.match(r.headers['www-authenticate'], /^Bearer realm="sigil"/)
          if (c.status === 403) t.match(r.headers['www-authenticate'], /error="insufficient_scope"/)
        })
      }
    }
    t.test('the reader client still exists after all those refusals', async t => {
      t.equal((await adminRequest(app, 'GET', '/admin/clients/reader')).statusCode, 200)
    })

    t.test('clients: create (secret shown once), list, get, delete', async t => {
      const created = await adminRequest(app, 'POST', '/admin/clients', {
        token_endpoint_auth_method: 'client_secret_post', grant_types: ['client_credentials'], scopes: ['a', 'b'],
        audience: 'https://api.example', signing_alg: 'RS256', access_token_ttl: 300, token_profile: 'simplejwt',
      })
      t.equal(created.statusCode, 201, created.body)
      const c = created.json()
      t.match(c.client_id, /^c_[\w-]{16}$/)
      t.ok(Buffer.from(c.client_secret, 'base64url').length >= 32, 'generated secret has 256 bits')
      t.same(c.audience, ['https://api.example'])
      t.equal(c.token_profile, 'simplejwt')
      const got = await adminRequest(app, 'GET', `/admin/clients/${c.client_id}`)
      t.equal(got.statusCode, 200)
      t.notOk('client_secret' in got.json(), 'never shown again')
      t.notOk('secret_hash' in got.json())
      const list = (await adminRequest(app, 'GET', '/admin/clients')).json().clients as Array<{ client_id: string }>
      t.ok(list.some(x => x.client_id === c.client_id))
      const token = await postToken(app, { grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret })
      t.equal(token.statusCode, 200)
      t.equal((await adminRequest(app, 'DELETE', `/admin/clients/${c.client_id}`)).statusCode, 204)
      t.equal((await adminRequest(app, 'GET', `/admin/clients/${c.client_id}`)).statusCode, 404)
      t.equal((await adminRequest(app, 'DELETE', `/admin/clients/${c.client_id}`)).statusCode, 404)
    })

    for (const [name, payload] of [
      ['no auth method', { grant_types: ['client_credentials'] }],
      ['unknown grant type', { token_endpoint_auth_method: 'none', grant_types: ['implicit'] }],
      ['short secret', { token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], client_secret: 'short' }],
      ['public client with a secret', { token_endpoint_auth_method: 'none', grant_types: ['password'], client_secret: 'x'.repeat(40) }],
      ['public client_credentials', { token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] }],
      ['bad scope token', { token_endpoint_auth_method: 'none', grant_types: ['password'], scopes: ['a b'] }],
      ['unknown field', { token_endpoint_auth_method: 'none', grant_types: ['password'], admin: true }],
      ['bad client_id', { client_id: 'a b', token_endpoint_auth_method: 'none', grant_types: ['password'] }],
      ['ttl too long', { token_endpoint_auth_method: 'none', grant_types: ['password'], access_token_ttl: 10 ** 9 }],
      ['not an object', ['x']],
    ] as const) {
      t.test(`client payload refused: ${name} → 400`, async t => {
        const r = await adminRequest(app, 'POST', '/admin/clients', payload)
        t.equal(r.statusCode, 400, r.body)
        t.equal(r.json().error, 'invalid_request')
      })
    }

    t.test('a duplicate client_id is 409', async t => {
      const r = await adminRequest(app, 'POST', '/admin/clients', { client_id: 'reader', token_endpoint_auth_method: 'none', grant_types: ['password'] })
      t.equal(r.statusCode, 409)
    })

    t.test('keys: list, rotate (409 when too young, force), revoke (404 unknown)', async t => {
      const list = await adminRequest(app, 'GET', '/admin/keys')
      t.equal(list.statusCode, 200)
      for (const k of list.json().keys) {
        t.match(k, { kid: String, alg: /^(ES|RS)256$/, state: /^(next|current|retiring|retired|revoked)$/, created_at: String })
        t.notOk('public_jwk' in k || 'private_key_enc' in k)
      }
      const young = await adminRequest(app, 'POST', '/admin/keys/rotate', {})
      t.equal(young.statusCode, 409)
      t.match(young.json().error_description, /KEY_LEAD_TIME/)
      const forced = await adminRequest(app, 'POST', '/admin/keys/rotate', { alg: 'RS256', force: true })
      t.equal(forced.statusCode, 200, forced.body)
      t.same(Object.keys(forced.json()).sort(), ['current', 'next', 'retiring'])
      t.equal(forced.json().current.alg, 'RS256')
      t.equal((await adminRequest(app, 'POST', '/admin/keys/rotate', { alg: 'HS256' })).statusCode, 400)
      t.equal((await adminRequest(app, 'POST', '/admin/keys/rotate', { force: 'yes' })).statusCode, 400)
      t.equal((await adminRequest(app, 'POST', '/admin/keys/nope/revoke')).statusCode, 404)
    })

    t.test('a user token with scope admin is not an admin token', async t => {
      await adminRequest(app, 'POST', '/admin/clients', {
        client_id: 'careless', token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['admin'],
      })
      await adminRequest(app, 'POST', '/admin/users', { username: 'mallory', password: 'a password long enough' })
      const r = await postToken(app, { grant_type: 'password', client_id: 'careless', username: 'mallory', password: 'a password long enough' })
      t.equal(r.json().scope, 'admin')
      const denied = await app.inject({ url: '/admin/keys', headers: bearer(r.json().access_token) })
      t.equal(denied.statusCode, 403)
      t.equal(denied.json().error, 'insufficient_scope')
    })

    t.test('a revoked admin token is refused with 401', async t => {
      const token = await adminToken(app)
      t.equal((await app.inject({ url: '/admin/keys', headers: bearer(token) })).statusCode, 200)
      const revoked = await app.inject({ method: 'POST', url: '/oauth2/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('admin', ADMIN.clientSecret) }, payload: `token=${token}` })
      t.equal(revoked.statusCode, 200)
      const r = await app.inject({ url: '/admin/keys', headers: bearer(token) })
      t.equal(r.statusCode, 401)
      t.equal(r.json().error, 'invalid_token')
    })

    t.test('a token signed by a revoked key no longer opens the admin API', async t => {
      const token = await adminToken(app)
      const kid = services.ring.signingKey('ES256')!.kid
      t.equal((await adminRequest(app, 'POST', `/admin/keys/${kid}/revoke`)).statusCode, 200)
      const r = await app.inject({ url: '/admin/keys', headers: bearer(token) })
      t.equal(r.statusCode, 401)
    })
  })
}

t.test('readiness fails when the database is gone', async t => {
  const [backend] = backends()
  const { app, services } = await buildTestApp(t, backend!)
  await services.db.close()
  const r = await app.inject('/readyz')
  t.equal(r.statusCode, 503)
  t.equal(r.json().checks.database, 'unavailable')
})
