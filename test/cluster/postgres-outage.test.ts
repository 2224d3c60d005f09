import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { migratePostgres } from '../../src/db/database.js'
import { ADMIN, PASSWORD as USER_PASSWORD } from '../helpers/app.js'
import { httpRequest, startLoad } from '../helpers/load.js'
import { postgresServerSkip, startPostgresServer } from '../helpers/postgres-server.js'
import { spawnService } from '../helpers/process.js'
import { redisTopologySkip, startRedisServer } from '../helpers/redis-servers.js'
import { sigilHttp, WEB_BASIC, WEB_CLIENT } from '../helpers/sigil-http.js'

// Issue 14, deliverable 3: PostgreSQL stopped and started again under load. A private
// PostgreSQL cluster of this test (the shared one on 5432 is never stopped) and a private Redis;
// one real Sigil process. While the database is down client_credentials keeps answering from the
// cached client and the in-memory keys; what needs the database answers 503
// temporarily_unavailable, never 500; after the start everything works again without a restart.

const skip = postgresServerSkip() || await redisTopologySkip()
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const OUTAGE_MS = 4000
const CC = { client_id: 'svc', client_secret: 'svc-client-secret-0123456789-0123456789-abc' }
const CC_BASIC = 'Basic ' + Buffer.from(`${CC.client_id}:${CC.client_secret}`).toString('base64')
/** Registered before the outage, never used: not in the client cache. */
const COLD = { client_id: 'cold', client_secret: 'cold-client-secret-0123456789-0123456789-abc' }

interface Answer { status: number; body: { error?: string; error_description?: string; access_token?: string } }

async function call(url: string, init: RequestInit): Promise<Answer> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) })
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) as Answer['body'] : {} }
}

t.test('issue 14: PostgreSQL stopped under load: client_credentials keeps answering, logins and admin calls answer 503, all recover without a restart', { skip, timeout: 60_000 }, async t => {
  const pgServer = await startPostgresServer(t)
  const databaseUrl = await pgServer.createDatabase('sigil')
  await migratePostgres(databaseUrl)
  const redisDir = await mkdtemp(join(tmpdir(), 'sigil-redis-'))
  t.teardown(() => rm(redisDir, { recursive: true, force: true }))
  const redis = await startRedisServer(t, redisDir, () => ['--save', '', '--appendonly', 'no'])
  const sigil = await spawnService(t, { DATABASE_URL: databaseUrl, REDIS_URL: `redis://127.0.0.1:${redis.port}`, ISSUER: 'http://sigil.test', RATE_LIMIT_IP_FAILURES: '0' })
  const api = sigilHttp(sigil.url)
  await api.createClient({ ...CC, scopes: ['read'] })
  await api.createClient({ ...COLD, scopes: ['read'] })
  await api.createClient({ ...WEB_CLIENT, grant_types: ['password', 'refresh_token'], scopes: ['openid', 'read'] })
  const username = `u-${randomBytes(4).toString('hex')}`
  await api.createUser({ username, password: USER_PASSWORD })

  const token = (basic: string, form: Record<string, string>) => call(`${sigil.url}/oauth2/token`, {
    method: 'POST', headers: { authorization: basic }, body: new URLSearchParams(form),
  })
  const login = () => token(WEB_BASIC, { grant_type: 'password', username, password: USER_PASSWORD, scope: 'read' })
  const adminList = async () => {
    const admin = await token('Basic ' + Buffer.from(`${ADMIN.clientId}:${ADMIN.clientSecret}`).toString('base64'), { grant_type: 'client_credentials' })
    if (admin.status !== 200) return admin
    return call(`${sigil.url}/admin/clients`, { headers: { authorization: `Bearer ${admin.body.access_token}` } })
  }
  // Warm up: the client is cached and the keys are loaded.
  t.equal((await token(CC_BASIC, { grant_type: 'client_credentials' })).status, 200)
  const first = await login()
  t.equal(first.status, 200, 'a password login works before the outage')
  // One refresh before the outage: the user is in the user cache, as for any active session.
  const warm = await token(WEB_BASIC, { grant_type: 'refresh_token', refresh_token: String((first.body as { refresh_token?: string }).refresh_token) })
  let refreshToken = String((warm.body as { refresh_token?: string }).refresh_token)
  const ccToken = (await token(CC_BASIC, { grant_type: 'client_credentials' })).body.access_token!
  t.equal((await adminList()).status, 200, 'an admin call works before the outage')

  const load = startLoad({
    concurrency: 4, pauseMs: 5, maxMs: 50_000,
    send: agent => httpRequest(agent, `${sigil.url}/oauth2/token`, {
      method: 'POST', body: 'grant_type=client_credentials',
      headers: { authorization: CC_BASIC, 'content-type': 'application/x-www-form-urlencoded' }, timeoutMs: 15_000,
    }),
    ok: a => a.status === 200,
  })
  await sleep(1000)
  const stopAt = Date.now()
  await pgServer.stop()
  const stopMs = Date.now() - stopAt
  const sentBefore = load.report().sent

  const probes: Record<string, Answer[]> = { login: [], admin: [], ready: [], refresh: [], introspect: [], cold: [] }
  const outageEnd = Date.now() + OUTAGE_MS
  while (Date.now() < outageEnd) {
    probes.login!.push(await login())
    probes.admin!.push(await adminList())
    probes.cold!.push(await token('Basic ' + Buffer.from(`${COLD.client_id}:${COLD.client_secret}`).toString('base64'), { grant_type: 'client_credentials' }))
    probes.ready!.push(await call(`${sigil.url}/readyz`, {}))
    const refreshed = await token(WEB_BASIC, { grant_type: 'refresh_token', refresh_token: refreshToken })
    if (refreshed.status === 200) refreshToken = String((refreshed.body as { refresh_token?: string }).refresh_token)
    probes.refresh!.push(refreshed)
    probes.introspect!.push(await call(`${sigil.url}/oauth2/introspect`, { method: 'POST', headers: { authorization: CC_BASIC }, body: new URLSearchParams({ token: ccToken }) }))
    await sleep(200)
  }
  const duringOutage = load.report().sent - sentBefore

  await pgServer.start()
  const startedAt = Date.now()
  let recoveredMs = -1
  let last: Answer | undefined
  while (Date.now() - startedAt < 20_000) {
    last = await login()
    if (last.status === 200) { recoveredMs = Date.now() - startedAt; break }
    await sleep(100)
  }
  const adminAfter = await adminList()
  await sleep(500)
  const r = await load.stop()

  const histogram = (answers: Answer[]) => answers.reduce<Record<string, number>>((h, a) => ({ ...h, [`${a.status} ${a.body.error ?? ''}`.trim()]: (h[`${a.status} ${a.body.error ?? ''}`.trim()] ?? 0) + 1 }), {})
  const fiveHundreds = [...Object.values(probes).flat(), ...(last ? [last] : [])].filter(a => a.status >= 500 && a.status !== 503).length +
    Object.entries(r.statuses).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0)
  t.comment(`postgres outage: pg_ctl stop took ${stopMs} ms; client_credentials load ${r.sent} requests (${duringOutage} during the ${OUTAGE_MS} ms outage), statuses ${JSON.stringify(r.statuses)}; ` +
    `during the outage logins ${JSON.stringify(histogram(probes.login!))}, admin calls ${JSON.stringify(histogram(probes.admin!))}, /readyz ${JSON.stringify(histogram(probes.ready!))}, ` +
    `refreshes ${JSON.stringify(histogram(probes.refresh!))}, introspections ${JSON.stringify(histogram(probes.introspect!))}, ` +
    `client_credentials of a client not in the cache ${JSON.stringify(histogram(probes.cold!))}; ` +
    `5xx other than 503: ${fiveHundreds}; logins answered 200 again ${(recoveredMs / 1000).toFixed(2)} s after PostgreSQL started`)

  t.same(r.failures, [], 'every client_credentials request answered 200, during the outage too')
  t.ok(duringOutage > 0, 'client_credentials requests were served while PostgreSQL was down')
  for (const [name, answers] of [['login', probes.login!], ['admin call', probes.admin!], ['client_credentials of a client not in the cache', probes.cold!]] as const) {
    t.ok(answers.length > 0)
    t.same(answers.filter(a => a.status !== 503 || a.body.error !== 'temporarily_unavailable' || typeof a.body.error_description !== 'string'), [],
      `every ${name} during the outage answered 503 {error: temporarily_unavailable, error_description}`)
  }
  t.ok(probes.ready!.every(a => a.status === 503), '/readyz answers 503 while the database is down')
  t.ok(probes.refresh!.every(a => a.status === 200), 'a refresh for a user read in the last minute works (user cache, families in Redis)')
  t.ok(probes.introspect!.every(a => a.status === 200), 'introspection works (keys in memory, revocations in Redis)')
  t.equal(fiveHundreds, 0, 'no 5xx other than 503')
  t.ok(recoveredMs >= 0, `logins work again without restarting Sigil (last answer ${last?.status} ${last?.body.error ?? ''})`)
  t.equal(adminAfter.status, 200, 'admin calls work again')
  t.equal(sigil.child.exitCode, null, 'the process stayed up')
})
