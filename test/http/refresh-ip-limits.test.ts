import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { adminRequest, buildTestApp, PASSWORD } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

/** A refresh through the public client `app` from `remoteAddress`. */
const refreshFrom = (app: FastifyInstance, remoteAddress: string, token: string) =>
  app.inject({
    method: 'POST', url: '/oauth2/token', remoteAddress,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'app', refresh_token: token }).toString(),
  })

/** A login through `app` from its own address (logins are not what these tests count); returns the refresh token. */
async function loginRefreshToken(app: FastifyInstance): Promise<string> {
  const r = await app.inject({
    method: 'POST', url: '/oauth2/token', remoteAddress: '198.51.100.1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'password', client_id: 'app', username: 'alice', password: PASSWORD, scope: 'openid read' }).toString(),
  })
  if (r.statusCode !== 200) throw new Error(r.body)
  return r.json().refresh_token
}

const appClient = { client_id: 'app', token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['openid', 'read'] }

/** A token of our shape that no family has. */
const unknownToken = (i: number) => `${'A'.repeat(21)}${i % 10}.${'B'.repeat(43)}`

for (const backend of backends()) {
  t.test(backend.name, async t => {
    t.test('issue 12: RATE_LIMIT_IP_FAILURES=3 on the public client refresh path', async t => {
      const { app, clock, services } = await buildTestApp(t, backend, { config: { rateLimitIpFailures: 3, rateLimitUserFailures: 0 } })
      t.equal((await adminRequest(app, 'POST', '/admin/clients', appClient)).statusCode, 201)
      t.equal((await adminRequest(app, 'POST', '/admin/users', { username: 'alice', password: PASSWORD })).statusCode, 201)

      // Which store steps the refreshes take: on standalone Redis the slot check rides in the rotation script.
      const store = services.store
      const calls = { takeSlot: 0, inSlot: 0 }
      const takeAttemptSlot = store.takeAttemptSlot.bind(store)
      store.takeAttemptSlot = (...a) => { calls.takeSlot++; return takeAttemptSlot(...a) }
      const inSlot = store.rotateRefreshTokenInIpSlot?.bind(store)
      if (inSlot) store.rotateRefreshTokenInIpSlot = (...a) => { calls.inSlot++; return inSlot(...a) }
      const fastPath = backend.store === 'redis' && inSlot !== undefined

      t.test('good refreshes pass; on Redis each is the rotation script alone, taking no slot', async t => {
        let token = await loginRefreshToken(app)
        const before = { ...calls }
        for (let i = 0; i < 10; i++) {
          const r = await refreshFrom(app, '192.0.2.30', token)
          t.equal(r.statusCode, 200, r.body)
          token = r.json().refresh_token
        }
        if (fastPath) {
          t.equal(calls.inSlot - before.inSlot, 10, 'ten combined steps')
          t.equal(calls.takeSlot - before.takeSlot, 0, 'no separate slot taken')
        }
      })

      t.test('failed refreshes count: the fourth from the IP is 429, another IP is still served', async t => {
        const good = await loginRefreshToken(app)
        for (let i = 0; i < 3; i++) {
          const r = await refreshFrom(app, '192.0.2.31', unknownToken(i))
          t.equal(r.statusCode, 400)
          t.equal(r.json().error, 'invalid_grant')
        }
        const refused = await refreshFrom(app, '192.0.2.31', unknownToken(3))
        t.equal(refused.statusCode, 429)
        t.match(refused.headers['retry-after'], /^[1-9][0-9]?$/)
        t.equal((await refreshFrom(app, '192.0.2.32', good)).statusCode, 200, 'another IP is served')
      })

      t.test('a good token from a blocked IP gets 429 and is not spent: it works after the window', async t => {
        const good = await loginRefreshToken(app)
        const spare = await loginRefreshToken(app)
        for (let i = 0; i < 3; i++) await refreshFrom(app, '192.0.2.33', unknownToken(i))
        const before = { ...calls }
        const refused = await refreshFrom(app, '192.0.2.33', good)
        t.equal(refused.statusCode, 429, refused.body)
        if (fastPath) t.equal(calls.inSlot - before.inSlot, 1, 'refused by the combined step itself')
        t.equal((await refreshFrom(app, '192.0.2.34', spare)).statusCode, 200, 'the same client from elsewhere is served')
        clock.advance(60_000)
        const later = await refreshFrom(app, '192.0.2.33', good)
        t.equal(later.statusCode, 200, `the refused token was not spent: ${later.body}`)
      })

      t.test('a reused token counts as a failure on this path too', async t => {
        const first = await loginRefreshToken(app)
        const r = await refreshFrom(app, '192.0.2.35', first)
        t.equal(r.statusCode, 200)
        clock.advance(5_000)
        for (let i = 0; i < 3; i++) t.equal((await refreshFrom(app, '192.0.2.35', first)).statusCode, 400, `reuse ${i + 1}`)
        t.equal((await refreshFrom(app, '192.0.2.35', unknownToken(0))).statusCode, 429)
        clock.advance(60_000)
      })

      t.test('a failure after the rotation (a family of an earlier registration of the client) counts too', async t => {
        const old = await Promise.all(Array.from({ length: 4 }, () => loginRefreshToken(app)))
        t.equal((await adminRequest(app, 'DELETE', '/admin/clients/app')).statusCode, 204)
        t.equal((await adminRequest(app, 'POST', '/admin/clients', appClient)).statusCode, 201)
        await loginRefreshToken(app) // the new registration is cached again: refreshes take the combined step
        const before = { ...calls }
        for (let i = 0; i < 3; i++) {
          const r = await refreshFrom(app, '192.0.2.37', old[i]!)
          t.equal(r.statusCode, 400, r.body)
        }
        if (fastPath) t.equal(calls.inSlot - before.inSlot, 3, 'each went through the combined step, which rotated')
        t.equal((await refreshFrom(app, '192.0.2.37', old[3]!)).statusCode, 429)
      })

      t.test('while attempts in flight fill the slots, a refresh waits for one instead of failing', async t => {
        const tokens = await Promise.all(Array.from({ length: 3 }, () => loginRefreshToken(app)))
        const key = 'ip:192.0.2.36'
        const nowMs = clock.now()
        for (let i = 0; i < 3; i++) t.same(await store.takeAttemptSlot(key, nowMs, 60, 3), { allowed: true })
        const pending = refreshFrom(app, '192.0.2.36', tokens[0]!)
        setTimeout(() => { void store.endAttempt(key, nowMs, 60, false) }, 50)
        const r = await pending
        t.equal(r.statusCode, 200, r.body)
        for (let i = 0; i < 2; i++) await store.endAttempt(key, nowMs, 60, false)
      })
    })
  })
}
