import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildManagementApp } from '../../src/app.js'
import { parseConfig } from '../../src/config.js'
import { RACE_WINDOW_MS } from '../../src/store/family-ports.js'
import { adminRequest, buildTestApp, PASSWORD, postToken, refresh } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { parseMetrics, valueOf, type Sample } from '../helpers/prometheus.js'

interface TestLike { teardown(fn: () => unknown): void }

/** A started service with its public app and its management app (which serves /metrics). */
async function buildApps(t: TestLike, ...args: Parameters<typeof buildTestApp> extends [unknown, ...infer R] ? R : never) {
  const built = await buildTestApp(t, ...args)
  const management = await buildManagementApp(built.services)
  t.teardown(() => management.close())
  return { ...built, management }
}

async function scrape(management: FastifyInstance): Promise<Sample[]> {
  const r = await management.inject({ method: 'GET', url: '/metrics' })
  if (r.statusCode !== 200) throw new Error(`/metrics: ${r.statusCode} ${r.body}`)
  return parseMetrics(r.body)
}

/** A public client with refresh tokens and one user. */
async function setUp(app: FastifyInstance): Promise<void> {
  const c = await adminRequest(app, 'POST', '/admin/clients', { client_id: 'app', token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['read'] })
  if (c.statusCode !== 201) throw new Error(c.body)
  const u = await adminRequest(app, 'POST', '/admin/users', { username: 'alice', password: PASSWORD })
  if (u.statusCode !== 201) throw new Error(u.body)
}
const login = (app: FastifyInstance, password = PASSWORD) =>
  postToken(app, { grant_type: 'password', client_id: 'app', username: 'alice', password })

/** How much each counter moved between two scrapes. */
const moved = (before: Sample[], after: Sample[], name: string, labels: Record<string, string> = {}) =>
  valueOf(after, name, labels) - valueOf(before, name, labels)

for (const backend of backends()) {
  t.test(backend.name, async t => {
    t.test('issue 11: /metrics is not served on the public listener, only on the management one', async t => {
      const { app, management } = await buildApps(t, backend)
      const pub = await app.inject({ method: 'GET', url: '/metrics' })
      t.equal(pub.statusCode, 404)
      t.equal(pub.json().error, 'not_found')
      t.equal((await management.inject({ method: 'GET', url: '/metrics' })).statusCode, 200)
      for (const url of ['/healthz', '/readyz']) {
        t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, `${url} stays on the public port (probes)`)
        t.equal((await management.inject({ method: 'GET', url })).statusCode, 200, `${url} is on the management port too`)
      }
      const other = await management.inject({ method: 'GET', url: '/.well-known/jwks.json' })
      t.equal(other.statusCode, 404, 'the management listener serves nothing else')
    })

    t.test('GET /metrics is the Prometheus text format of this instance', async t => {
      const { management } = await buildApps(t, backend)
      const r = await management.inject({ method: 'GET', url: '/metrics' })
      t.equal(r.statusCode, 200)
      t.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/)
      const samples = parseMetrics(r.body)
      t.ok(valueOf(samples, 'process_cpu_user_seconds_total') > 0, 'Node process metrics are included')
      t.equal(valueOf(samples, 'sigil_refresh_token_reuse_total'), 0)
      for (const outcome of ['success', 'failure', 'throttled']) {
        t.ok(samples.some(s => s.name === 'sigil_logins_total' && s.labels.outcome === outcome), `logins{outcome="${outcome}"} is there from the start`)
      }
    })

    t.test('counters move with a login, a refresh, a reuse detection, a failed login and a 429', async t => {
      const { app, management, clock } = await buildApps(t, backend, { config: { rateLimitUserFailures: 1 } })
      await setUp(app)
      const before = await scrape(management)
      const first = await login(app)
      t.equal(first.statusCode, 200, first.body)
      const second = await refresh(app, first.json().refresh_token)
      t.equal(second.statusCode, 200, second.body)
      clock.advance(RACE_WINDOW_MS + 1)
      t.equal((await refresh(app, first.json().refresh_token)).json().error, 'invalid_grant', 'the rotated token again: reuse')
      t.equal((await login(app, 'wrong password')).statusCode, 400)
      t.equal((await login(app, 'wrong password')).statusCode, 429, 'backing off after one failure')
      const after = await scrape(management)
      const expected: Array<{ name: string; labels: Record<string, string>; by: number }> = [
        { name: 'sigil_logins_total', labels: { outcome: 'success' }, by: 1 },
        { name: 'sigil_logins_total', labels: { outcome: 'failure' }, by: 1 },
        { name: 'sigil_logins_total', labels: { outcome: 'throttled' }, by: 1 },
        { name: 'sigil_tokens_issued_total', labels: { grant_type: 'password' }, by: 1 },
        { name: 'sigil_tokens_issued_total', labels: { grant_type: 'refresh_token' }, by: 1 },
        { name: 'sigil_refresh_token_reuse_total', labels: {}, by: 1 },
        { name: 'sigil_rate_limited_total', labels: { route: '/oauth2/token' }, by: 1 },
        { name: 'sigil_http_requests_total', labels: { route: '/oauth2/token', method: 'POST', status: '200' }, by: 2 },
        { name: 'sigil_http_requests_total', labels: { route: '/oauth2/token', method: 'POST', status: '400' }, by: 2 },
        { name: 'sigil_http_requests_total', labels: { route: '/oauth2/token', method: 'POST', status: '429' }, by: 1 },
        { name: 'sigil_http_request_duration_seconds_count', labels: { route: '/oauth2/token', method: 'POST' }, by: 5 },
      ]
      for (const c of expected) t.equal(moved(before, after, c.name, c.labels), c.by, `${c.name}${JSON.stringify(c.labels)} +${c.by}`)
    })

    t.test('requests are labelled by route pattern, never by URL', async t => {
      const { app, management } = await buildApps(t, backend)
      await setUp(app)
      t.equal((await adminRequest(app, 'GET', '/admin/clients/app')).statusCode, 200)
      t.equal((await app.inject({ method: 'GET', url: '/no/such/thing-12345' })).statusCode, 404)
      const r = await management.inject({ method: 'GET', url: '/metrics' })
      const samples = parseMetrics(r.body)
      t.equal(valueOf(samples, 'sigil_http_requests_total', { route: '/admin/clients/:client_id', method: 'GET', status: '200' }), 1)
      t.equal(valueOf(samples, 'sigil_http_requests_total', { route: 'unmatched', status: '404' }), 1)
      t.notMatch(r.body, /thing-12345|clients\/app"/, 'no raw URL in any label')
    })

    t.test('signing keys: age and state per kid; dependencies: up', async t => {
      const { app, management, services, clock } = await buildApps(t, backend)
      clock.advance(90_000)
      t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
      const samples = await scrape(management)
      const published = await services.keys.repo.listPublished()
      t.ok(published.length >= 4, 'a current and a next key of each algorithm')
      for (const k of published) {
        t.equal(valueOf(samples, 'sigil_signing_key_state', { kid: k.kid, alg: k.alg, state: k.state }), 1, `${k.kid} is ${k.state}`)
        t.equal(valueOf(samples, 'sigil_signing_key_age_seconds', { kid: k.kid }), Math.floor((clock.now() - k.createdAt.getTime()) / 1000))
      }
      t.equal(valueOf(samples, 'sigil_dependency_up', { dependency: 'database' }), 1)
      t.equal(valueOf(samples, 'sigil_dependency_up', { dependency: 'store' }), 1)
    })

    t.test('two apps in one process count apart (a registry per instance)', async t => {
      const [a, b] = [await buildApps(t, backend), await buildApps(t, backend)]
      for (let i = 0; i < 3; i++) await a.app.inject({ method: 'GET', url: '/healthz' })
      await b.app.inject({ method: 'GET', url: '/healthz' })
      t.equal(valueOf(await scrape(a.management), 'sigil_http_requests_total', { route: '/healthz' }), 3)
      t.equal(valueOf(await scrape(b.management), 'sigil_http_requests_total', { route: '/healthz' }), 1)
    })
  })
}

t.test('issue 11: MANAGEMENT_HOST/MANAGEMENT_PORT default to 127.0.0.1:9000 and never share the public port', async t => {
  const c = parseConfig({})
  t.same([c.managementHost, c.managementPort], ['127.0.0.1', 9000])
  t.throws(() => parseConfig({ PORT: '8080', MANAGEMENT_PORT: '8080' }), /^MANAGEMENT_PORT: /)
  t.throws(() => parseConfig({ MANAGEMENT_PORT: 'nine' }), /^MANAGEMENT_PORT: /)
  t.equal(parseConfig({ PORT: '0', MANAGEMENT_PORT: '0' }).managementPort, 0, '0: any free port, as for PORT')
})

