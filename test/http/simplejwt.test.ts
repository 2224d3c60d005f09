import { decodeJwt, decodeProtectedHeader } from 'jose'
import t, { type Test } from 'tap'
import { RACE_WINDOW_MS } from '../../src/store/family-ports.js'
import { adminRequest, buildTestApp, PASSWORD, type TestApp } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

type App = TestApp['app']

const post = (app: App, path: string, body: unknown) =>
  app.inject({ method: 'POST', url: `/api/token/${path}`, payload: body as object })
const postForm = (app: App, path: string, fields: Record<string, string>) =>
  app.inject({ method: 'POST', url: `/api/token/${path}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() })

async function login(app: App) {
  const r = await post(app, '', { username: 'alice', password: PASSWORD })
  if (r.statusCode !== 200) throw new Error(r.body)
  return r.json() as { refresh: string; access: string }
}

const NO_ACCOUNT = { detail: 'No active account found with the given credentials' }
const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' }
const INVALID = { detail: 'Token is invalid or expired', code: 'token_not_valid' }
const WRONG_TYPE = { detail: 'Token has wrong type', code: 'token_not_valid' }
const REQUIRED = ['This field is required.']
const BLANK = ['This field may not be blank.']

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, services, clock } = await buildTestApp(t, backend)
    const made = await adminRequest(app, 'POST', '/admin/users', { username: 'alice', password: PASSWORD })
    t.equal(made.statusCode, 201)
    await adminRequest(app, 'POST', '/admin/users', { username: 'bob', password: PASSWORD })
    const bob = await services.users.repo.findByUsername('bob')
    await services.db.prisma.user.update({ where: { id: bob!.id }, data: { disabled: true } })

    /** Every 401 carries the simplejwt challenge; every body is JSON. */
    const expect = (t: Test, r: Awaited<ReturnType<typeof post>>, status: number, body: unknown, why = 'the body stock simplejwt gives') => {
      t.equal(r.statusCode, status, r.body)
      t.match(r.headers['content-type'], /^application\/json/)
      t.same(r.json(), body, why)
      if (status === 401) t.equal(r.headers['www-authenticate'], 'Bearer realm="api"')
    }

    t.test('issue 13: POST /api/token/ trades a username and password (JSON or form) for a refresh and an access token', async t => {
      for (const r of [await post(app, '', { username: 'alice', password: PASSWORD }), await postForm(app, '', { username: 'alice', password: PASSWORD })]) {
        t.equal(r.statusCode, 200, r.body)
        t.same(Object.keys(r.json()).sort(), ['access', 'refresh'])
        const claims = decodeJwt(r.json().access)
        t.equal(claims.token_type, 'access')
        t.equal(claims.username, 'alice')
        t.equal(claims.is_staff, false)
        t.equal(claims.user_id, made.json().id, 'a user not from Django: user_id is sub')
        t.ok(decodeProtectedHeader(r.json().access).kid)
        t.equal(r.headers['cache-control'], 'no-store')
      }
    })

    t.test('issue 13: the login table of stock simplejwt', async t => {
      const rows: Array<[string, string, unknown, number, unknown]> = [
        ['wrong password', '', { username: 'alice', password: 'wrong password!' }, 401, NO_ACCOUNT],
        ['unknown user', '', { username: 'nobody', password: PASSWORD }, 401, NO_ACCOUNT],
        ['inactive user', '', { username: 'bob', password: PASSWORD }, 401, NO_ACCOUNT],
        ['empty body', '', {}, 400, { username: REQUIRED, password: REQUIRED }],
        ['only username', '', { username: 'alice' }, 400, { password: REQUIRED }],
        ['both blank', '', { username: '', password: '' }, 400, { username: BLANK, password: BLANK }],
        ['refresh {}', 'refresh/', {}, 400, { refresh: REQUIRED }],
        ['refresh blank', 'refresh/', { refresh: '' }, 400, { refresh: BLANK }],
        ['refresh garbage', 'refresh/', { refresh: 'garbage' }, 401, INVALID],
        ['verify {}', 'verify/', {}, 400, { token: REQUIRED }],
        ['verify garbage', 'verify/', { token: 'garbage' }, 401, INVALID],
        ['blacklist {}', 'blacklist/', {}, 400, { refresh: REQUIRED }],
        ['blacklist garbage', 'blacklist/', { refresh: 'garbage' }, 401, INVALID],
      ]
      for (const [name, path, body, status, want] of rows) await t.test(name, async t => expect(t, await post(app, path, body), status, want))
    })

    t.test('issue 13: malformed JSON is a parse error; GET is 405 on every view', async t => {
      const r = await app.inject({ method: 'POST', url: '/api/token/', headers: { 'content-type': 'application/json' }, payload: '{"username":' })
      t.equal(r.statusCode, 400)
      t.match(r.json().detail, /^JSON parse error - /)
      const text = await app.inject({ method: 'POST', url: '/api/token/', headers: { 'content-type': 'text/plain' }, payload: 'hello' })
      expect(t, text, 415, { detail: 'Unsupported media type "text/plain" in request.' })
      expect(t, await post(app, '', [1]), 400, { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] })
      expect(t, await post(app, '', { username: null, password: { a: 1 } }), 400,
        { username: ['This field may not be null.'], password: ['Not a valid string.'] })
      for (const path of ['', 'refresh/', 'verify/', 'blacklist/']) {
        const g = await app.inject({ method: 'GET', url: `/api/token/${path}` })
        expect(t, g, 405, { detail: 'Method "GET" not allowed.' })
      }
    })

    t.test('issue 13: refresh rotates; a rotated token is blacklisted and its reuse ends the family', async t => {
      const first = await login(app)
      const r = await post(app, 'refresh/', { refresh: first.refresh })
      t.equal(r.statusCode, 200, r.body)
      t.same(Object.keys(r.json()).sort(), ['access', 'refresh'])
      t.not(r.json().refresh, first.refresh)
      t.equal(decodeJwt(r.json().access).sid, decodeJwt(first.access).sid, 'same family')
      const tampered = r.json().refresh.slice(0, -2) + (r.json().refresh.endsWith('AA') ? 'BB' : 'AA')
      expect(t, await post(app, 'refresh/', { refresh: tampered }), 401, INVALID)
      expect(t, await post(app, 'refresh/', { refresh: first.access }), 401, WRONG_TYPE)
      expect(t, await post(app, 'verify/', { token: first.refresh }), 400, { non_field_errors: ['Token is blacklisted'] })
      // Past the window in which a duplicate is taken for a concurrent retry (store/family-ports.ts).
      clock.advance(RACE_WINDOW_MS + 1)
      expect(t, await post(app, 'refresh/', { refresh: first.refresh }), 401, BLACKLISTED)
      expect(t, await post(app, 'refresh/', { refresh: r.json().refresh }), 401, BLACKLISTED, 'the reuse ended the family')
    })

    t.test('issue 13: verify answers {} for an access token and a live refresh token, 401 for a tampered one', async t => {
      const pair = await login(app)
      expect(t, await post(app, 'verify/', { token: pair.access }), 200, {})
      expect(t, await postForm(app, 'verify/', { token: pair.refresh }), 200, {})
      const [h, p, s] = pair.access.split('.')
      expect(t, await post(app, 'verify/', { token: `${h}.${p}.${s!.slice(0, -4)}AAAA` }), 401, INVALID)
    })

    t.test('issue 13: blacklist ends the family, as /oauth2/revoke does', async t => {
      const pair = await login(app)
      expect(t, await post(app, 'blacklist/', { refresh: pair.refresh }), 200, {})
      expect(t, await post(app, 'blacklist/', { refresh: pair.refresh }), 401, BLACKLISTED)
      expect(t, await post(app, 'refresh/', { refresh: pair.refresh }), 401, BLACKLISTED)
      expect(t, await post(app, 'blacklist/', { refresh: pair.access }), 401, WRONG_TYPE)
      expect(t, await post(app, 'verify/', { token: pair.access }), 401, INVALID)
    })
  })
}

t.test('issue 13: SIMPLEJWT_PREFIX moves the views; off removes them', async t => {
  const [backend] = backends()
  const moved = await buildTestApp(t, backend!, { config: { simplejwtPrefix: '/auth/jwt' } })
  t.equal((await moved.app.inject({ method: 'POST', url: '/auth/jwt/verify/', payload: {} })).statusCode, 400)
  t.equal((await moved.app.inject({ method: 'POST', url: '/api/token/verify/', payload: {} })).statusCode, 404)
  const off = await buildTestApp(t, backend!, { config: { simplejwtPrefix: null } })
  t.equal((await off.app.inject({ method: 'POST', url: '/api/token/', payload: {} })).statusCode, 404)
})

t.test('issue 13: /api/token/ shares the username back-off with /oauth2/token and answers it as DRF throttling', async t => {
  const [backend] = backends()
  const { app, clock } = await buildTestApp(t, backend!, { config: { rateLimitUserFailures: 2 } })
  await adminRequest(app, 'POST', '/admin/users', { username: 'alice', password: PASSWORD })
  for (let i = 0; i < 2; i++) t.equal((await post(app, '', { username: 'alice', password: 'wrong password' })).statusCode, 401)
  const r = await post(app, '', { username: 'alice', password: PASSWORD })
  t.equal(r.statusCode, 429)
  t.equal(r.headers['retry-after'], '1')
  t.same(r.json(), { detail: 'Request was throttled. Expected available in 1 seconds.' })
  clock.advance(1000)
  t.equal((await post(app, '', { username: 'alice', password: PASSWORD })).statusCode, 200, 'served once the back-off has passed')
})
