import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import t from 'tap'
import { backends } from '../helpers/backends.js'
import { adminRequest, basic, buildTestApp, postToken } from '../helpers/app.js'
import { sleep } from '../helpers/clock.js'

const SECRET = 'service-secret-0123456789-0123456789-abcdef'

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, services } = await buildTestApp(t, backend)
    const created = await adminRequest(app, 'POST', '/admin/clients', {
      client_id: 'svc', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'], scopes: ['read', 'write'], audience: ['https://api.example'],
    })
    t.equal(created.statusCode, 201, created.body)
    await adminRequest(app, 'POST', '/admin/clients', {
      client_id: 'pub', token_endpoint_auth_method: 'none', grant_types: ['refresh_token'],
    })
    await adminRequest(app, 'POST', '/admin/clients', {
      client_id: 'rs', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'], scopes: ['read'], signing_alg: 'RS256', access_token_ttl: 60,
    })
    await adminRequest(app, 'POST', '/admin/clients', {
      client_id: 'nocc', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['password'], scopes: ['read'],
    })

    t.test('issues an RFC 9068 access token that verifies against the JWKS', async t => {
      const r = await postToken(app, { grant_type: 'client_credentials', scope: 'read' }, basic('svc', SECRET))
      t.equal(r.statusCode, 200, r.body)
      t.equal(r.headers['cache-control'], 'no-store')
      const body = r.json()
      t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
      t.equal(body.token_type, 'Bearer')
      t.equal(body.scope, 'read')
      t.equal(body.expires_in, 900)
      const header = decodeProtectedHeader(body.access_token)
      t.equal(header.typ, 'at+jwt')
      t.equal(header.alg, 'ES256')
      const jwks = createLocalJWKSet(JSON.parse(services.ring.jwks().body))
      const { payload } = await jwtVerify(body.access_token, jwks, {
        issuer: services.config.issuer, audience: 'https://api.example', typ: 'at+jwt',
        currentDate: new Date(services.clock.now()),
      })
      t.equal(payload.sub, 'svc')
      t.equal(payload.client_id, 'svc')
      t.equal(payload.scope, 'read')
      t.type(payload.jti, 'string')
      t.equal(payload.exp! - payload.iat!, 900)
    })

    t.test('client_secret_post, per-client RS256 and TTL', async t => {
      const r = await postToken(app, { grant_type: 'client_credentials', client_id: 'rs', client_secret: SECRET })
      t.equal(r.statusCode, 200, r.body)
      t.equal(r.json().expires_in, 60)
      t.equal(decodeProtectedHeader(r.json().access_token).alg, 'RS256')
      t.equal(r.json().scope, 'read', 'no scope asked: all the client may have')
    })

    t.test('a client_secret_basic id and secret are form-urlencoded (RFC 6749 §2.3.1)', async t => {
      const odd = 'p@ss word:+/%-0123456789-0123456789-0123'
      const c = await adminRequest(app, 'POST', '/admin/clients', {
        client_id: 'odd.id~1', client_secret: odd, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'],
      })
      t.equal(c.statusCode, 201, c.body)
      const r = await postToken(app, { grant_type: 'client_credentials' }, basic('odd.id~1', odd))
      t.equal(r.statusCode, 200, r.body)
    })

    t.test('the resource/audience parameter narrows the audience', async t => {
      const r = await postToken(app, { grant_type: 'client_credentials', resource: 'https://api.example' }, basic('svc', SECRET))
      t.equal(r.statusCode, 200)
      const bad = await postToken(app, { grant_type: 'client_credentials', audience: 'https://other.example' }, basic('svc', SECRET))
      t.equal(bad.statusCode, 400)
      t.equal(bad.json().error, 'invalid_target')
    })

    const cases: Array<{ name: string; form: Record<string, string>; headers?: Record<string, string>; status: number; error: string; basicChallenge?: boolean }> = [
      { name: 'missing grant_type', form: {}, headers: basic('svc', SECRET), status: 400, error: 'invalid_request' },
      { name: 'unknown grant_type', form: { grant_type: 'magic' }, headers: basic('svc', SECRET), status: 400, error: 'unsupported_grant_type' },
      { name: 'no client authentication', form: { grant_type: 'client_credentials' }, status: 401, error: 'invalid_client' },
      { name: 'wrong secret (Basic)', form: { grant_type: 'client_credentials' }, headers: basic('svc', SECRET + 'x'), status: 401, error: 'invalid_client', basicChallenge: true },
      { name: 'unknown client (Basic)', form: { grant_type: 'client_credentials' }, headers: basic('nobody', SECRET), status: 401, error: 'invalid_client', basicChallenge: true },
      { name: 'wrong secret (post)', form: { grant_type: 'client_credentials', client_id: 'rs', client_secret: 'nope' }, status: 401, error: 'invalid_client' },
      { name: 'malformed Basic header', form: { grant_type: 'client_credentials' }, headers: { authorization: 'Basic !!!' }, status: 401, error: 'invalid_client', basicChallenge: true },
      { name: 'Basic without a colon', form: { grant_type: 'client_credentials' }, headers: { authorization: 'Basic ' + Buffer.from('svc').toString('base64') }, status: 401, error: 'invalid_client', basicChallenge: true },
      { name: 'two authentication methods', form: { grant_type: 'client_credentials', client_secret: SECRET }, headers: basic('svc', SECRET), status: 400, error: 'invalid_request' },
      { name: 'public client', form: { grant_type: 'client_credentials', client_id: 'pub' }, status: 400, error: 'unauthorized_client' },
      { name: 'client not registered for the grant', form: { grant_type: 'client_credentials' }, headers: basic('nocc', SECRET), status: 400, error: 'unauthorized_client' },
      { name: 'scope outside the client', form: { grant_type: 'client_credentials', scope: 'read admin' }, headers: basic('svc', SECRET), status: 400, error: 'invalid_scope' },
      { name: 'malformed scope', form: { grant_type: 'client_credentials', scope: 'read "x' }, headers: basic('svc', SECRET), status: 400, error: 'invalid_scope' },
    ]
    for (const c of cases) {
      t.test(`refuses: ${c.name}`, async t => {
        const r = await postToken(app, c.form, c.headers)
        t.equal(r.statusCode, c.status, r.body)
        t.equal(r.json().error, c.error)
        t.type(r.json().error_description, 'string')
        t.equal(r.headers['cache-control'], 'no-store')
        if (c.basicChallenge) t.match(r.headers['www-authenticate'], /^Basic realm=/)
      })
    }

    t.test('issue 15: each grant\'s declared required parameters are checked in one place, each named when missing or empty', async t => {
      const made = await adminRequest(app, 'POST', '/admin/clients', {
        client_id: 'every', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'password', 'refresh_token'], redirect_uris: ['https://every.example/cb'],
      })
      t.equal(made.statusCode, 201, made.body)
      const complete: Record<string, Record<string, string>> = {
        authorization_code: { code: 'c', redirect_uri: 'https://every.example/cb', code_verifier: 'v'.repeat(43) },
        password: { username: 'u', password: 'p' },
        refresh_token: { refresh_token: 'r' },
      }
      for (const [grantType, form] of Object.entries(complete)) {
        for (const name of Object.keys(form)) {
          for (const value of [undefined, '']) {
            const sent: Record<string, string> = { grant_type: grantType, ...form }
            if (value === undefined) delete sent[name]
            else sent[name] = value
            const r = await postToken(app, sent, basic('every', SECRET))
            t.same([r.statusCode, r.json().error, r.json().error_description], [400, 'invalid_request', `${name} is required`], `${grantType} ${name}=${String(value)}`)
          }
        }
      }
      const unregistered = await postToken(app, { grant_type: 'password' }, basic('svc', SECRET))
      t.equal(unregistered.json().error, 'unauthorized_client', 'registration is checked before parameters')
    })

    t.test('a repeated parameter is invalid_request (RFC 6749 §3.2)', async t => {
      const r = await app.inject({
        method: 'POST', url: '/oauth2/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('svc', SECRET) },
        payload: 'grant_type=client_credentials&scope=read&scope=write',
      })
      t.equal(r.statusCode, 400)
      t.equal(r.json().error, 'invalid_request')
    })

    t.test('JSON bodies are accepted too', async t => {
      const r = await app.inject({
        method: 'POST', url: '/oauth2/token', headers: basic('svc', SECRET),
        payload: { grant_type: 'client_credentials' },
      })
      t.equal(r.statusCode, 200, r.body)
    })

    for (const c of [
      { name: 'malformed JSON', type: 'application/json', payload: '{"grant_type":', status: 400 },
      { name: 'JSON that is not an object', type: 'application/json', payload: '["client_credentials"]', status: 400 },
      { name: 'JSON with a non-string value', type: 'application/json', payload: '{"grant_type":{"a":1}}', status: 400 },
      { name: 'malformed form encoding', type: 'application/x-www-form-urlencoded', payload: 'grant_type=%E0%A4%A&scope=%', status: 400 },
      { name: 'unsupported content type', type: 'text/plain', payload: 'grant_type=client_credentials', status: 415 },
      { name: 'a 2 MB body', type: 'application/x-www-form-urlencoded', payload: 'grant_type=client_credentials&pad=' + 'a'.repeat(2 * 1024 * 1024), status: 413 },
    ]) {
      t.test(`bad body: ${c.name} → ${c.status}, never 500`, async t => {
        const r = await app.inject({ method: 'POST', url: '/oauth2/token', headers: { 'content-type': c.type, ...basic('svc', SECRET) }, payload: c.payload })
        t.equal(r.statusCode, c.status, r.body)
        t.equal(r.json().error, 'invalid_request')
      })
    }

    t.test('a deleted client is refused at once (cache invalidated)', async t => {
      await adminRequest(app, 'POST', '/admin/clients', {
        client_id: 'gone', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'],
      })
      t.equal((await postToken(app, { grant_type: 'client_credentials' }, basic('gone', SECRET))).statusCode, 200)
      t.equal((await adminRequest(app, 'DELETE', '/admin/clients/gone')).statusCode, 204)
      await sleep(200)
      t.equal((await postToken(app, { grant_type: 'client_credentials' }, basic('gone', SECRET))).statusCode, 401)
    })
  })
}

t.test('bad characters and URLs are invalid_request, never 500', async t => {
  const backend = backends().at(-1)!
  const { app } = await buildTestApp(t, backend)
  await adminRequest(app, 'POST', '/admin/clients', { client_id: 'pub', token_endpoint_auth_method: 'none', grant_types: ['password'] })
  const admin = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) => adminRequest(app, method, url, payload)
  for (const [name, request] of [
    ['NUL in client_id', () => postToken(app, { grant_type: 'client_credentials', client_id: 'a\u0000b' })],
    ['NUL in username', () => postToken(app, { grant_type: 'password', client_id: 'pub', username: 'a\u0000b', password: 'xxxxxxxxxx' })],
    ['NUL in custom claims', () => admin('POST', '/admin/users', { username: 'nul', password: 'long enough password', claims: { a: 'x\u0000y' } })],
    ['NUL in an audience', () => admin('POST', '/admin/clients', { token_endpoint_auth_method: 'none', grant_types: ['password'], audience: 'a\u0000' })],
    ['NUL in a client path', () => admin('GET', '/admin/clients/a%00b')],
    ['NUL in a user path', () => admin('DELETE', '/admin/users/a%00b')],
    ['undecodable URL', () => admin('GET', '/admin/clients/%E0%A4%A')],
  ] as const) {
    const r = await request()
    t.equal(r.statusCode, 400, `${name}: ${r.body}`)
    t.equal(r.json().error, 'invalid_request', name)
  }
})
