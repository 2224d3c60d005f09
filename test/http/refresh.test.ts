import { decodeJwt } from 'jose'
import t from 'tap'
import { RACE_WINDOW_MS } from '../../src/store/family-ports.js'
import { adminRequest, buildTestApp, form, loginThroughApp, PASSWORD, postToken, refresh, type TestApp } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { buildTestApps } from '../helpers/instances.js'
import { introspect, RS_SECRET } from '../helpers/token-surfaces.js'

/** A public app with refresh tokens, a second public app, a resource server that introspects, and a user. */
async function setUp(app: TestApp['app']): Promise<string> {
  for (const payload of [
    { client_id: 'app', token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['openid', 'read', 'write'] },
    { client_id: 'other', token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['openid', 'read', 'write'] },
    { client_id: 'rs', client_secret: RS_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'] },
  ]) {
    const r = await adminRequest(app, 'POST', '/admin/clients', payload)
    if (r.statusCode !== 201) throw new Error(r.body)
  }
  const user = await adminRequest(app, 'POST', '/admin/users', { username: 'alice', password: PASSWORD })
  return user.json().id
}

const revoke = (app: TestApp['app'], token: string, client = 'app') => form(app, '/oauth2/revoke', { token, client_id: client })

for (const backend of backends()) {
  t.test(backend.name, async t => {
    t.test('a login starts a family: refresh token, sid in the access token, rotation on every use', async t => {
      const { app, clock } = await buildTestApp(t, backend)
      await setUp(app)
      const first = await loginThroughApp(app)
      t.match(first.refresh_token, /^[\w-]{22}\.[\w-]{43}$/)
      const sid = decodeJwt(first.access_token).sid as string
      t.equal(first.refresh_token.split('.')[0], sid)
      t.equal(decodeJwt(first.id_token!).sid, sid)

      let current = first.refresh_token
      const seen = new Set([current])
      for (let i = 0; i < 100; i++) {
        const r = await refresh(app, current)
        t.equal(r.statusCode, 200, r.body)
        const next = r.json().refresh_token as string
        t.notOk(seen.has(next), 'a new refresh token every time')
        t.equal(decodeJwt(r.json().access_token).sid, sid, 'same family')
        const old = await refresh(app, current)
        t.equal(old.statusCode, 400)
        t.equal(old.json().error, 'invalid_grant', 'the rotated token no longer works')
        seen.add(next)
        current = next
        clock.advance(RACE_WINDOW_MS + 1)
      }
      t.equal((await refresh(app, first.refresh_token)).json().error, 'invalid_grant', 'reuse of an old token')
      const newest = await refresh(app, current)
      t.equal(newest.statusCode, 400)
      t.equal(newest.json().error, 'invalid_grant', 'reuse revoked the whole family: the newest token died')
      t.same(await introspect(app, newest.json().access_token ?? first.access_token), { active: false })
    })

    t.test('scope may only narrow; a bad scope does not spend the token', async t => {
      const { app } = await buildTestApp(t, backend)
      await setUp(app)
      const { refresh_token } = await loginThroughApp(app)
      const wide = await refresh(app, refresh_token, { scope: 'read admin' })
      t.equal(wide.statusCode, 400)
      t.equal(wide.json().error, 'invalid_scope')
      const narrow = await refresh(app, refresh_token, { scope: 'read' })
      t.equal(narrow.statusCode, 200, narrow.body)
      t.equal(narrow.json().scope, 'read')
      t.notOk(narrow.json().id_token, 'no openid, no ID token')
      const back = await refresh(app, narrow.json().refresh_token)
      t.equal(back.json().scope, 'openid read write', 'the family keeps its scope')
    })

    t.test('a refresh token works only for its own client', async t => {
      const { app } = await buildTestApp(t, backend)
      await setUp(app)
      const { refresh_token } = await loginThroughApp(app)
      const stolen = await postToken(app, { grant_type: 'refresh_token', client_id: 'other', refresh_token })
      t.equal(stolen.statusCode, 400)
      t.equal(stolen.json().error, 'invalid_grant')
      t.equal((await refresh(app, refresh_token)).statusCode, 200, 'and still works for its client')
    })

    for (const [name, form, error, status] of [
      ['missing refresh_token', { grant_type: 'refresh_token', client_id: 'app' }, 'invalid_request', 400],
      ['garbage token', { grant_type: 'refresh_token', client_id: 'app', refresh_token: 'nope' }, 'invalid_grant', 400],
      ['well-formed unknown token', { grant_type: 'refresh_token', client_id: 'app', refresh_token: `${'a'.repeat(22)}.${'b'.repeat(43)}` }, 'invalid_grant', 400],
      ['client not registered for refresh_token', { grant_type: 'refresh_token', client_id: 'rs', refresh_token: 'x' }, 'invalid_client', 401],
    ] as const) {
      t.test(`refused: ${name}`, async t => {
        const { app } = await buildTestApp(t, backend)
        await setUp(app)
        const r = await postToken(app, { ...form })
        t.equal(r.statusCode, status, r.body)
        t.equal(r.json().error, error)
      })
    }

    t.test('idle and absolute expiry', async t => {
      const { app, clock } = await buildTestApp(t, backend, { config: { refreshIdleTtlSec: 100, refreshTokenTtlSec: 250 } })
      await setUp(app)
      const idle = await loginThroughApp(app)
      clock.advance(100_000)
      t.equal((await refresh(app, idle.refresh_token)).json().error, 'invalid_grant', 'unused for REFRESH_IDLE_TTL')
      let token = (await loginThroughApp(app)).refresh_token
      for (let i = 0; i < 2; i++) {
        clock.advance(90_000)
        const r = await refresh(app, token)
        t.equal(r.statusCode, 200, 'use keeps it alive')
        token = r.json().refresh_token
      }
      clock.advance(90_000)
      t.equal((await refresh(app, token)).json().error, 'invalid_grant', 'REFRESH_TOKEN_TTL is absolute')
    })

    t.test('inside REFRESH_REUSE_GRACE a retry gets the same successor; later it is reuse', async t => {
      const { app, clock } = await buildTestApp(t, backend, { config: { refreshReuseGraceSec: 5 } })
      await setUp(app)
      const { refresh_token } = await loginThroughApp(app)
      const a = await refresh(app, refresh_token)
      clock.advance(4000)
      const b = await refresh(app, refresh_token)
      t.equal(b.statusCode, 200)
      t.equal(b.json().refresh_token, a.json().refresh_token, 'the same successor, not a second branch')
      clock.advance(2000)
      t.equal((await refresh(app, refresh_token)).json().error, 'invalid_grant')
      t.equal((await refresh(app, a.json().refresh_token)).json().error, 'invalid_grant', 'the family is revoked')
    })

    for (const grace of [0, 5]) {
      t.test(`50 concurrent refreshes of one token over two instances (grace ${grace} s)`, async t => {
        const [one, two] = await buildTestApps(t, backend, 2, { config: { refreshReuseGraceSec: grace } })
        await setUp(one!.app)
        const { refresh_token } = await loginThroughApp(one!.app)
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => refresh((i % 2 ? two! : one!).app, refresh_token)))
        const successors = new Set(results.filter(r => r.statusCode === 200).map(r => r.json().refresh_token as string))
        t.equal(successors.size, 1, 'exactly one distinct successor')
        if (grace > 0) t.equal(results.filter(r => r.statusCode === 200).length, 50, 'every caller got it')
        else t.ok(results.filter(r => r.statusCode !== 200).every(r => r.json().error === 'invalid_grant'))
        t.equal((await refresh(two!.app, [...successors][0]!)).statusCode, 200, 'and it works')
      })
    }

    t.test('revocation (RFC 7009) checked through introspection (RFC 7662)', async t => {
      const { app, services, clock } = await buildTestApp(t, backend)
      const userId = await setUp(app)
      const s1 = await loginThroughApp(app)
      const active = await introspect(app, s1.access_token)
      t.match(active, { active: true, token_type: 'Bearer', client_id: 'app', sub: userId, scope: 'openid read write', iss: services.config.issuer, sid: s1.refresh_token.split('.')[0] })
      t.same(Object.keys(active).sort(), ['active', 'aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sid', 'sub', 'token_type'])
      const family = await introspect(app, s1.refresh_token)
      t.match(family, { active: true, sub: userId })
      t.notOk('token_type' in family, 'issue 11: a refresh token claims no access-token type (RFC 7662 §2.2)')

      t.equal((await revoke(app, s1.refresh_token)).statusCode, 200)
      t.same(await introspect(app, s1.access_token), { active: false }, 'a revoked family makes its access tokens inactive')
      t.same(await introspect(app, s1.refresh_token), { active: false })
      t.equal((await refresh(app, s1.refresh_token)).json().error, 'invalid_grant')

      const s2 = await loginThroughApp(app)
      t.equal((await revoke(app, s2.access_token, 'other')).statusCode, 200, 'another client cannot revoke it...')
      t.equal((await introspect(app, s2.access_token)).active, true, '...so nothing happened')
      t.equal((await revoke(app, s2.access_token)).statusCode, 200)
      t.same(await introspect(app, s2.access_token), { active: false }, 'access token denylisted')
      t.equal((await refresh(app, s2.refresh_token)).statusCode, 200, 'its family lives on')

      t.equal((await revoke(app, 'never-issued')).statusCode, 200, 'unknown token: 200')
      const noToken = await app.inject({ method: 'POST', url: '/oauth2/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'client_id=app' })
      t.equal(noToken.statusCode, 400)
      t.equal(noToken.json().error, 'invalid_request')

      clock.advance(2000)
      const s3 = await loginThroughApp(app)
      const s4 = await loginThroughApp(app)
      const out = await adminRequest(app, 'POST', `/admin/users/${userId}/revoke-tokens`)
      t.equal(out.statusCode, 200, out.body)
      t.ok(out.json().revoked_families >= 2)
      for (const s of [s3, s4]) {
        t.same(await introspect(app, s.access_token), { active: false }, 'logout everywhere: access tokens inactive')
        t.equal((await refresh(app, s.refresh_token)).json().error, 'invalid_grant', 'and families ended')
      }
      clock.advance(2000)
      t.equal((await introspect(app, (await loginThroughApp(app)).access_token)).active, true, 'a later login works again')
      t.equal((await adminRequest(app, 'POST', '/admin/users/nobody/revoke-tokens')).statusCode, 404)
    })

    t.test('introspection says only {active:false} for anything not valid now', async t => {
      const { app, services, clock } = await buildTestApp(t, backend)
      await setUp(app)
      const s = await loginThroughApp(app)
      t.same(await introspect(app, 'garbage'), { active: false })
      t.same(await introspect(app, s.id_token!), { active: false }, 'an ID token is not an access token')
      const [h, p] = s.access_token.split('.')
      t.same(await introspect(app, `${h}.${p}.${'A'.repeat(86)}`), { active: false }, 'bad signature')
      const kid = services.ring.signingKey('ES256')!.kid
      const other = await loginThroughApp(app)
      t.equal((await adminRequest(app, 'POST', `/admin/keys/${kid}/revoke`)).statusCode, 200)
      t.same(await introspect(app, other.access_token), { active: false }, 'signed by a revoked key')
      const fresh = await loginThroughApp(app)
      clock.advance(901_000)
      t.same(await introspect(app, fresh.access_token), { active: false }, 'expired')
      const pub = await app.inject({ method: 'POST', url: '/oauth2/introspect', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=x&client_id=app` })
      t.equal(pub.statusCode, 401, 'public clients may not introspect')
      t.equal(pub.json().error, 'invalid_client')
    })

    t.test('deleting a user ends their families', async t => {
      const { app } = await buildTestApp(t, backend)
      const userId = await setUp(app)
      const s = await loginThroughApp(app)
      t.equal((await adminRequest(app, 'DELETE', `/admin/users/${userId}`)).statusCode, 204)
      t.same(await introspect(app, s.access_token), { active: false }, 'at once, before any refresh')
      t.equal((await refresh(app, s.refresh_token)).json().error, 'invalid_grant')
    })
  })
}
