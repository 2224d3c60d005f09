import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { basic, buildTestApp, createUser, login, PASSWORD, postToken, registerLoginClients, WEB_SECRET } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { buildTestApps } from '../helpers/instances.js'

/** A token request with a wrong client secret from `remoteAddress`, optionally through a proxy header. */
const badClient = (app: FastifyInstance, remoteAddress: string, forwardedFor?: string) =>
  app.inject({
    method: 'POST', url: '/oauth2/token', remoteAddress,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('web', 'wrong'), ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    payload: 'grant_type=password&username=alice&password=x',
  })

for (const backend of backends()) {
  t.test(backend.name, async t => {
    t.test('RATE_LIMIT_IP_FAILURES=3, no trusted proxy', async t => {
      const { app, clock } = await buildTestApp(t, backend, { config: { rateLimitIpFailures: 3 } })
      await registerLoginClients(app)
      await createUser(app, { username: 'alice', password: PASSWORD })

      t.test('failed client authentications count; then every token request from the IP is 429', async t => {
        for (let i = 0; i < 3; i++) t.equal((await badClient(app, '192.0.2.1')).statusCode, 401)
        const r = await login(app, 'web', { username: 'alice', password: PASSWORD }, { remoteAddress: '192.0.2.1' })
        t.equal(r.statusCode, 429)
        t.equal(r.json().error, 'too_many_requests')
        t.match(r.headers['retry-after'], /^[1-9][0-9]?$/)
        t.equal((await login(app, 'web', { username: 'alice', password: PASSWORD }, { remoteAddress: '192.0.2.2' })).statusCode, 200, 'another IP is served')
        clock.advance(60_000)
        t.equal((await login(app, 'web', { username: 'alice', password: PASSWORD }, { remoteAddress: '192.0.2.1' })).statusCode, 200, 'served again the next minute')
      })

      t.test('X-Forwarded-For is ignored when no proxy is trusted', async t => {
        for (let i = 0; i < 3; i++) await badClient(app, '192.0.2.10', `203.0.113.${i}`)
        const r = await badClient(app, '192.0.2.10', '203.0.113.99')
        t.equal(r.statusCode, 429, 'a fresh X-Forwarded-For buys no fresh attempts')
      })

      t.test('an IPv6 client is counted by its /64', async t => {
        for (let i = 1; i <= 3; i++) t.equal((await badClient(app, `2001:db8:1:2::${i}`)).statusCode, 401)
        t.equal((await badClient(app, '2001:db8:1:2:ffff::9')).statusCode, 429, 'same /64')
        t.equal((await badClient(app, '2001:db8:1:3::1')).statusCode, 401, 'another /64')
      })

      t.test('malformed requests are not failures', async t => {
        for (let i = 0; i < 5; i++) {
          t.equal((await postToken(app, { grant_type: 'password', client_id: 'spa' }, {})).statusCode, 400)
        }
        t.equal((await login(app, 'spa', { username: 'alice', password: PASSWORD })).statusCode, 200)
      })
    })

    t.test('issue 11: RATE_LIMIT_IP_FAILURES=5 holds against a concurrent burst of 200', async t => {
      // The per-username gate is off, so only the IP gate stands between the burst and argon2.
      const { app, services } = await buildTestApp(t, backend, { config: { rateLimitIpFailures: 5, rateLimitUserFailures: 0 } })
      await registerLoginClients(app)
      await createUser(app, { username: 'alice', password: PASSWORD })
      const real = services.users.passwords
      let verified = 0
      services.users.passwords = { ...real, verify: (stored, password) => { verified++; return real.verify(stored, password) } }
      const burst = async (send: (i: number) => Promise<{ statusCode: number }>) => {
        const statuses = (await Promise.all(Array.from({ length: 200 }, (_, i) => send(i)))).map(r => r.statusCode)
        return { checked: statuses.filter(s => s !== 429).length, refused: statuses.filter(s => s === 429).length }
      }

      t.test('wrong passwords: at most 5 argon2 verifications, the rest 429', async t => {
        const r = await burst(() => login(app, 'spa', { username: 'alice', password: 'wrong password' }, { remoteAddress: '192.0.2.50' }))
        t.ok(verified <= 5, `${verified} argon2 verifications`)
        t.ok(r.checked <= 5, `${r.checked} answered other than 429`)
        t.equal(r.checked + r.refused, 200)
      })

      t.test('wrong client secrets: at most 5 checked, the rest 429', async t => {
        const r = await burst(() => badClient(app, '192.0.2.51'))
        t.ok(r.checked <= 5 && r.checked >= 1, `${r.checked} secret checks (401)`)
        t.equal(r.refused, 200 - r.checked)
      })

      t.test('a burst of 40 good logins is queued behind the 5 slots, not refused', async t => {
        const statuses = await Promise.all(Array.from({ length: 40 }, () =>
          login(app, 'spa', { username: 'alice', password: PASSWORD }, { remoteAddress: '192.0.2.52' }).then(r => r.statusCode)))
        t.same(statuses, Array.from({ length: 40 }, () => 200))
      })
    })

    t.test('TRUST_PROXY=10.0.0.1: X-Forwarded-For from that proxy is believed', async t => {
      const { app } = await buildTestApp(t, backend, { config: { rateLimitIpFailures: 3, trustProxy: ['10.0.0.1'] } })
      await registerLoginClients(app)
      for (let i = 0; i < 3; i++) t.equal((await badClient(app, '10.0.0.1', '203.0.113.5')).statusCode, 401)
      t.equal((await badClient(app, '10.0.0.1', '203.0.113.5')).statusCode, 429, 'the client behind the proxy is limited')
      t.equal((await badClient(app, '10.0.0.1', '203.0.113.6')).statusCode, 401, 'other clients behind the same proxy are not')
      for (let i = 0; i < 3; i++) await badClient(app, '10.0.0.2', `203.0.113.${20 + i}`)
      t.equal((await badClient(app, '10.0.0.2', '203.0.113.30')).statusCode, 429, 'an untrusted peer is counted by its own address')
    })

    t.test('RATE_LIMIT_IP=5 caps every token request of an IP, across instances', async t => {
      // The in-process store is per instance (single-instance deployments); Redis is shared.
      const instances = await buildTestApps(t, backend, backend.store === 'redis' ? 2 : 1, { config: { rateLimitIp: 5 } })
      const apps = instances.map(i => i.app)
      for (let i = 0; i < 5; i++) {
        const r = await postToken(apps[i % apps.length]!, { grant_type: 'client_credentials' }, basic('web', WEB_SECRET))
        t.not(r.statusCode, 429, `request ${i + 1}`)
      }
      const r = await postToken(apps[5 % apps.length]!, { grant_type: 'client_credentials' }, basic('web', WEB_SECRET))
      t.equal(r.statusCode, 429)
      t.same(r.json(), { error: 'too_many_requests', error_description: 'too many attempts, retry later' })
      t.match(r.headers['retry-after'], /^[1-9][0-9]?$/)
      t.equal(r.headers['cache-control'], 'no-store')
      const other = await apps[0]!.inject({ method: 'POST', url: '/oauth2/token', remoteAddress: '192.0.2.200', payload: { grant_type: 'client_credentials' } })
      t.not(other.statusCode, 429, 'another IP is not capped')
      t.equal((await apps[0]!.inject('/.well-known/jwks.json')).statusCode, 200, 'only the token endpoint is capped')
    })

    t.test('RATE_LIMIT_IP=0 registers no cap', async t => {
      const { app } = await buildTestApp(t, backend)
      const r = await postToken(app, { grant_type: 'client_credentials' }, basic('nobody', WEB_SECRET))
      t.equal(r.headers['x-ratelimit-limit'], undefined)
    })
  })
}
