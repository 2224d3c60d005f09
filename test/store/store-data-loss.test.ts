import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/log.js'
import { createServices, type Services } from '../../src/services.js'
import { createMemoryStore } from '../../src/store/memory/memory-store.js'
import { redisConnectionOf } from '../../src/store/redis/redis-store.js'
import { ADMIN, adminRequest, basic, buildTestApp, postToken } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { testConfig } from '../helpers/config.js'
import { buildTestApps } from '../helpers/instances.js'

// Issue 11, deliverable 6: a store that loses its data (Redis FLUSHALL or a restart without
// persistence; the in-process store at every restart) must not un-revoke anything.

const OPS_SECRET = 'ops-client-secret-0123456789-0123456789-abcd'
const RS_SECRET = 'resource-server-secret-0123456789-0123456789'
const PASSWORD = 'correct horse battery staple'

const form = (app: FastifyInstance, url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(fields).toString() })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

async function setUp(app: FastifyInstance): Promise<string> {
  for (const payload of [
    { client_id: 'app', token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['openid', 'read'] },
    { client_id: 'ops', client_secret: OPS_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], scopes: ['admin'] },
    { client_id: 'rs', client_secret: RS_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'] },
  ]) {
    const r = await adminRequest(app, 'POST', '/admin/clients', payload)
    if (r.statusCode !== 201) throw new Error(r.body)
  }
  return (await adminRequest(app, 'POST', '/admin/users', { username: 'alice', password: PASSWORD })).json().id
}

const login = async (app: FastifyInstance) => {
  const r = await postToken(app, { grant_type: 'password', client_id: 'app', username: 'alice', password: PASSWORD, scope: 'openid read' })
  if (r.statusCode !== 200) throw new Error(r.body)
  return r.json() as { access_token: string; refresh_token: string }
}
const opsToken = async (app: FastifyInstance) => (await postToken(app, { grant_type: 'client_credentials' }, basic('ops', OPS_SECRET))).json().access_token as string

/** Every way a token is revoked before the loss: denylisted, of a revoked family, before a logout-everywhere; an admin token denylisted. */
async function revokeEverything(app: FastifyInstance, userId: string) {
  const denied = await login(app)
  await form(app, '/oauth2/revoke', { token: denied.access_token, client_id: 'app' })
  const family = await login(app)
  await form(app, '/oauth2/revoke', { token: family.refresh_token, client_id: 'app' })
  const everywhere = await login(app)
  const admin = await opsToken(app)
  await form(app, '/oauth2/revoke', { token: admin }, basic('ops', OPS_SECRET))
  // The logout-everywhere comes last: every user token above is covered by it too, so each
  // user token stands for its own revocation only through the checks before it.
  const r = await adminRequest(app, 'POST', `/admin/users/${userId}/revoke-tokens`)
  if (r.statusCode !== 200) throw new Error(r.body)
  return { user: [denied.access_token, family.access_token, everywhere.access_token], refresh: [family.refresh_token, everywhere.refresh_token], admin }
}

async function assertAllInactive(t: Test, app: FastifyInstance, revoked: Awaited<ReturnType<typeof revokeEverything>>) {
  for (const token of [...revoked.user, ...revoked.refresh, revoked.admin]) {
    t.same((await form(app, '/oauth2/introspect', { token }, basic('rs', RS_SECRET))).json(), { active: false })
  }
  for (const token of revoked.user) t.equal((await app.inject({ url: '/userinfo', headers: bearer(token) })).statusCode, 401)
  t.equal((await app.inject({ url: '/admin/clients', headers: bearer(revoked.admin) })).statusCode, 401)
}

/** New tokens, in the same second as the loss, work everywhere. */
async function assertNewTokensWork(t: Test, app: FastifyInstance) {
  const fresh = await login(app)
  t.equal((await app.inject({ url: '/userinfo', headers: bearer(fresh.access_token) })).statusCode, 200)
  t.equal((await form(app, '/oauth2/introspect', { token: fresh.access_token }, basic('rs', RS_SECRET))).json().active, true)
  t.equal((await postToken(app, { grant_type: 'refresh_token', client_id: 'app', refresh_token: fresh.refresh_token })).statusCode, 200)
  t.equal((await app.inject({ url: '/admin/clients', headers: bearer(await opsToken(app)) })).statusCode, 200)
}

function recordingLog() {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done() } })
  return { log: createLogger('info', sink), lines }
}

const lossMetric = async (s: Services) => /^sigil_store_data_loss_total (\d+)$/m.exec((await s.metrics.render()).body)?.[1]

const redisBackend = backends().find(b => b.store === 'redis')

t.test('issue 11: after Redis loses its data (its keys flushed), every token revoked before stays inactive; a warn line and a metric', { skip: redisBackend ? false : 'needs REDIS_URL' }, async t => {
  const { log, lines } = recordingLog()
  const [a, b] = await buildTestApps(t, redisBackend!, 2, { log })
  const userId = await setUp(a!.app)
  const revoked = await revokeEverything(a!.app, userId)
  await assertAllInactive(t, a!.app, revoked)
  t.equal(await lossMetric(a!.services), '0')

  // FLUSHALL, limited to this test's own namespace: the shared Redis serves other tests too.
  const { prefix } = redisConnectionOf(a!.services.store)!
  const redis = new Redis(process.env.REDIS_URL!)
  t.teardown(() => redis.disconnect())
  for (const key of await redis.keys(`${prefix}*`)) await redis.del(key)

  await assertAllInactive(t, b!.app, revoked)
  await assertAllInactive(t, a!.app, revoked)
  const warnings = lines.filter(l => l.event === 'store_generation_changed')
  t.equal(warnings.length, 1, 'one warn line for the loss, from whichever instance noticed it first')
  t.equal(warnings[0]?.level, 40)
  const counted = Number(await lossMetric(a!.services)) + Number(await lossMetric(b!.services))
  t.equal(counted, 1, 'sigil_store_data_loss_total counted it once')
  await assertNewTokensWork(t, a!.app)
  await assertNewTokensWork(t, b!.app)
})

t.test('issue 11: the embedded store starts empty at every restart: tokens revoked before it stay inactive', async t => {
  const backend = backends()[0]!
  const { app, services, clock } = await buildTestApp(t, backend)
  const userId = await setUp(app)
  const revoked = await revokeEverything(app, userId)
  await assertAllInactive(t, app, revoked)

  // A restart: the same database, a new in-process store (the old one is gone with the process).
  const { log, lines } = recordingLog()
  const restarted = await createServices(testConfig({ adminClient: ADMIN }), { clock, log, db: services.db, store: createMemoryStore(), keyReloadMs: 60_000 })
  await restarted.start()
  const again = await buildApp(restarted)
  t.teardown(() => again.close())
  await assertAllInactive(t, again, revoked)
  t.ok(lines.some(l => l.event === 'store_generation_changed' && l.level === 30), 'an info line at start: expected, not an alert')
  t.equal(await lossMetric(restarted), '0', 'not counted as a loss of Redis')
  await assertNewTokensWork(t, again)
})
