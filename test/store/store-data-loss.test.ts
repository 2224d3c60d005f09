import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/log.js'
import { createServices, type Services } from '../../src/services.js'
import { createMemoryStore } from '../../src/store/memory/memory-store.js'
import { redisConnectionOf } from '../../src/store/redis/redis-store.js'
import { ADMIN, adminRequest, basic, buildTestApp, clientToken, form, loginThroughApp, PASSWORD, refresh } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { testConfig } from '../helpers/config.js'
import { buildTestApps } from '../helpers/instances.js'
import { introspect, listClients, OPS_SECRET, setUpSurfaces, userinfo } from '../helpers/token-surfaces.js'

// Issue 11, deliverable 6: a store that loses its data (Redis FLUSHALL or a restart without
// persistence; the in-process store at every restart) must not un-revoke anything.

const opsToken = (app: FastifyInstance) => clientToken(app, 'ops', OPS_SECRET)

/**
 * Every way a token is revoked before the loss, each token by one way only: denylisted, of a
 * revoked family (alice), issued before a logout-everywhere (bob); an admin token denylisted.
 */
async function revokeEverything(app: FastifyInstance) {
  const denied = await loginThroughApp(app, 'openid read')
  await form(app, '/oauth2/revoke', { token: denied.access_token, client_id: 'app' })
  const family = await loginThroughApp(app, 'openid read')
  await form(app, '/oauth2/revoke', { token: family.refresh_token, client_id: 'app' })
  const bob = await adminRequest(app, 'POST', '/admin/users', { username: 'bob', password: PASSWORD })
  const everywhere = await loginThroughApp(app, 'openid read', 'bob')
  const admin = await opsToken(app)
  await form(app, '/oauth2/revoke', { token: admin }, basic('ops', OPS_SECRET))
  const r = await adminRequest(app, 'POST', `/admin/users/${bob.json().id}/revoke-tokens`)
  if (r.statusCode !== 200) throw new Error(r.body)
  return { user: [denied.access_token, family.access_token, everywhere.access_token], refresh: [family.refresh_token, everywhere.refresh_token], admin }
}

async function assertAllInactive(t: Test, app: FastifyInstance, revoked: Awaited<ReturnType<typeof revokeEverything>>) {
  for (const token of [...revoked.user, ...revoked.refresh, revoked.admin]) t.same(await introspect(app, token), { active: false })
  for (const token of revoked.user) t.equal((await userinfo(app, token)).statusCode, 401)
  t.equal((await listClients(app, revoked.admin)).statusCode, 401)
}

/** New tokens, in the same second as the loss, work everywhere. */
async function assertNewTokensWork(t: Test, app: FastifyInstance) {
  const fresh = await loginThroughApp(app)
  t.equal((await userinfo(app, fresh.access_token)).statusCode, 200)
  t.equal((await introspect(app, fresh.access_token)).active, true)
  t.equal((await refresh(app, fresh.refresh_token)).statusCode, 200)
  t.equal((await listClients(app, await opsToken(app))).statusCode, 200)
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
  await setUpSurfaces(a!.app)
  const revoked = await revokeEverything(a!.app)
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
  await setUpSurfaces(app)
  const revoked = await revokeEverything(app)
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
