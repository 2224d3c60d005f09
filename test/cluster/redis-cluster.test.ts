import { randomBytes } from 'node:crypto'
import { decodeProtectedHeader } from 'jose'
import t from 'tap'
import { createRedisStore } from '../../src/store/redis/redis-store.js'
import type { LoginSessionRecord, AuthorizationCodeRecord } from '../../src/store/login-ports.js'
import { ADMIN, basicAuthorization, PASSWORD } from '../helpers/app.js'
import { createPostgresDatabase } from '../helpers/backends.js'
import { spawnService, type ServiceProcess } from '../helpers/process.js'
import { redisTopologySkip, startRedisCluster } from '../helpers/redis-servers.js'
import { sigilHttp, WEB_BASIC as BASIC, WEB_CLIENT as CLIENT } from '../helpers/sigil-http.js'
import { sleep } from '../helpers/clock.js'
import { RACE_WINDOW_MS } from '../../src/store/family-ports.js'

// Issue 14, deliverable 1: two Sigil instances on one PostgreSQL and a real 3-master Redis
// Cluster started by this test, reached through the documented redis-cluster:// host list.

const skip = await redisTopologySkip()
/** What a Redis Cluster says when a client sends a command to the wrong node or across slots. */
const CLUSTER_ERRORS = /CROSSSLOT|MOVED|\bASK\b|TRYAGAIN|CLUSTERDOWN|Too many Cluster redirections|ClusterAllFailedError/

interface Answer { status: number; body: Record<string, unknown> }
/** Every status any instance answered during the test. */
const statuses: number[] = []

async function post(base: string, path: string, form: Record<string, string>, authorization = BASIC): Promise<Answer> {
  const r = await fetch(`${base}${path}`, { method: 'POST', body: new URLSearchParams(form), headers: { authorization } })
  statuses.push(r.status)
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) as Record<string, unknown> : {} }
}
const login = (base: string, username: string, password = PASSWORD) => post(base, '/oauth2/token', { grant_type: 'password', username, password, scope: 'openid read' })
const refresh = (base: string, token: unknown) => post(base, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: String(token) })
const introspect = async (base: string, token: unknown) => (await post(base, '/oauth2/introspect', { token: String(token) })).body
const clientToken = async (base: string) => (await post(base, '/oauth2/token', { grant_type: 'client_credentials', scope: 'read' })).body.access_token

t.test('issue 14: two instances on one PostgreSQL and a real 3-master Redis Cluster', {
  skip, timeout: 90_000,
}, async t => {
  const started = Date.now()
  const cluster = await startRedisCluster(t, { masters: 3 })
  t.comment(`cluster of ${cluster.nodes.length} masters up in ${Date.now() - started} ms: ${cluster.url}`)
  const databaseUrl = await createPostgresDatabase(t, { migrate: true })
  const env = {
    DATABASE_URL: databaseUrl, REDIS_URL: cluster.url, ISSUER: 'http://sigil.test',
    RATE_LIMIT_USER_FAILURES: '3', RATE_LIMIT_IP_FAILURES: '0', KEY_LEAD_TIME: '1', JWKS_MAX_AGE: '0', KEY_ROTATION_INTERVAL: '0',
  }
  // A second pair caps every request per IP: the @fastify/rate-limit counters on the cluster.
  const CAP = 12
  const [a, b, capA, capB] = await Promise.all([
    spawnService(t, env), spawnService(t, env), spawnService(t, { ...env, RATE_LIMIT_IP: String(CAP) }), spawnService(t, { ...env, RATE_LIMIT_IP: String(CAP) }),
  ]) as [ServiceProcess, ServiceProcess, ServiceProcess, ServiceProcess]
  t.comment(`four instances ready after ${Date.now() - started} ms`)
  const api = sigilHttp(a.url)
  const alice = `alice-${randomBytes(4).toString('hex')}`
  const bob = `bob-${randomBytes(4).toString('hex')}`
  const aliceId = await (async () => {
    await api.createClient({ ...CLIENT, grant_types: ['password', 'refresh_token', 'client_credentials'], scopes: ['openid', 'read'] })
    await api.createUser({ username: bob, password: PASSWORD })
    return api.createUser({ username: alice, password: PASSWORD })
  })()

  t.test('a login on one instance refreshes on the other; reuse on either ends the family everywhere', async t => {
    const first = await login(a.url, alice)
    t.equal(first.status, 200, 'login on A')
    const second = await refresh(b.url, first.body.refresh_token)
    t.equal(second.status, 200, 'minted by A, rotated by B')
    const third = await refresh(a.url, second.body.refresh_token)
    t.equal(third.status, 200, 'and back on A')
    t.equal((await introspect(b.url, third.body.access_token)).active, true, 'B introspects A\'s access token')
    await sleep(RACE_WINDOW_MS + 100) // past the concurrent-duplicate window: presenting a rotated token is now reuse
    t.equal((await refresh(b.url, first.body.refresh_token)).body.error, 'invalid_grant', 'the first token again, on B: reuse')
    t.equal((await refresh(a.url, third.body.refresh_token)).body.error, 'invalid_grant', 'A sees the family revoked')
    t.same(await introspect(a.url, third.body.access_token), { active: false }, 'and its access token is inactive on A')
  })

  t.test('a revocation on one instance is seen by the other', async t => {
    const tokens = await login(b.url, alice)
    t.equal((await introspect(a.url, tokens.body.access_token)).active, true)
    t.equal((await post(a.url, '/oauth2/revoke', { token: String(tokens.body.access_token) })).status, 200, 'access token revoked on A')
    t.same(await introspect(b.url, tokens.body.access_token), { active: false }, 'B: inactive')
    t.equal((await post(b.url, '/oauth2/revoke', { token: String(tokens.body.refresh_token) })).status, 200, 'refresh token revoked on B')
    t.equal((await refresh(a.url, tokens.body.refresh_token)).body.error, 'invalid_grant', 'A refuses it')
  })

  t.test('logout everywhere through one instance ends the user\'s families on the other', async t => {
    const [onA, onB] = [await login(a.url, alice), await login(b.url, alice)]
    const r = await fetch(`${b.url}/admin/users/${encodeURIComponent(aliceId)}/revoke-tokens`, {
      method: 'POST', headers: { authorization: `Bearer ${await adminTokenOf(b.url)}` },
    })
    statuses.push(r.status)
    t.ok(r.status === 200 || r.status === 204, `revoke-tokens on B: ${r.status}`)
    for (const [name, s, tokens] of [['A', a, onA], ['B', b, onB]] as const) {
      t.equal((await refresh(s.url, tokens.body.refresh_token)).body.error, 'invalid_grant', `${name}'s family is over`)
      t.same(await introspect(name === 'A' ? b.url : a.url, tokens.body.access_token), { active: false }, `${name}'s access token inactive on the other`)
    }
    t.equal((await login(a.url, alice)).status, 200, 'a new login works')
  })

  t.test('a deleted client is refused by the other instance within 1 s: pub/sub across cluster nodes', async t => {
    const spec = { client_id: `svc-${randomBytes(3).toString('hex')}`, client_secret: 'svc-client-secret-0123456789-0123456789-abc' }
    await api.createClient({ ...spec, scopes: ['read'] })
    const basic = basicAuthorization(spec.client_id, spec.client_secret)
    const grant = (s: ServiceProcess) => post(s.url, '/oauth2/token', { grant_type: 'client_credentials' }, basic)
    t.equal((await grant(b)).status, 200, 'B has the client cached (for 60 s)')
    const r = await fetch(`${a.url}/admin/clients/${spec.client_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${await adminTokenOf(a.url)}` } })
    t.equal(r.status, 204, 'deleted on A')
    const since = Date.now()
    let status = 200
    while (status === 200 && Date.now() - since < 1000) {
      status = (await grant(b)).status
      if (status === 200) await sleep(20)
    }
    t.equal(status, 401, `B refused it after ${Date.now() - since} ms`)
  })

  t.test('a key rotation on one instance is signed with by the other within 2 s (the keys channel)', async t => {
    const fresh = (await api.rotate('ES256')).current.kid
    const since = Date.now()
    while (decodeProtectedHeader(String(await clientToken(b.url))).kid !== fresh && Date.now() - since < 2000) await sleep(50)
    const took = Date.now() - since
    t.equal(decodeProtectedHeader(String(await clientToken(b.url))).kid, fresh, `B signs with ${fresh} after ${took} ms`)
    t.ok(took < 2000, 'well before the 5 s key reload')
  })

  t.test('failed logins spread over both instances share one back-off', async t => {
    const seen: number[] = []
    for (const s of [a, b, a]) seen.push((await login(s.url, bob, 'wrong password')).status)
    t.same(seen, [400, 400, 400], 'three failures, on A, B and A')
    t.equal((await login(b.url, bob, 'wrong password')).status, 429, 'the fourth, on B, backs off')
    t.equal((await login(a.url, bob)).status, 429, 'even with the right password, on A')
  })

  t.test(`RATE_LIMIT_IP=${CAP} is one budget across both instances (@fastify/rate-limit on the cluster)`, async t => {
    const answers: number[] = []
    for (let i = 0; i < CAP + 4; i++) answers.push((await post(i % 2 === 0 ? capA.url : capB.url, '/oauth2/token', { grant_type: 'client_credentials' })).status)
    t.same(answers.slice(0, CAP).filter(s => s === 429), [], `the first ${CAP}, alternating, are served`)
    t.same(answers.slice(CAP), [429, 429, 429, 429], 'every one after the shared budget is refused, on both')
  })

  t.test('every multi-key script of the store keeps its keys in one slot (login sessions, codes, consent, generation marker)', async t => {
    const store = createRedisStore({ url: cluster.url, prefix: `sigil-direct:${randomBytes(3).toString('hex')}:` })
    t.teardown(() => store.close())
    const now = Date.now()
    const hash = randomBytes(16).toString('hex')
    const session: LoginSessionRecord = { userId: 'u1', authTimeSec: Math.floor(now / 1000), createdAtMs: now, absoluteExpiresAtMs: now + 60_000 }
    await store.createLoginSession(hash, session, now, 30_000)
    t.same(await store.touchLoginSession(hash, now + 1, 30_000), session)
    t.equal(await store.addFamilyToLoginSession(hash, 'fam-1', now + 2), true)
    t.same(await store.loginSessionsOfUser('u1', now), [hash])
    t.same(await store.endLoginSession(hash, now + 3), { session, familyIds: ['fam-1'] })
    const code = randomBytes(16).toString('hex')
    const record = { clientId: 'web', redirectUri: 'https://app.example/cb', codeChallenge: 'x', scope: ['openid'], userId: 'u1', authTimeSec: 1, loginSessionHash: hash, expiresAtMs: now + 60_000 } as AuthorizationCodeRecord
    await store.saveAuthorizationCode(code, record, now)
    t.equal((await store.consumeAuthorizationCode(code, now, 60_000)).outcome, 'consumed')
    t.equal(await store.recordCodeExchange(code, { jti: 'j', accessExpiresAtMs: now + 1000 }), 'recorded')
    t.equal((await store.consumeAuthorizationCode(code, now, 60_000)).outcome, 'replayed')
    await store.rememberConsent('u1', 'web', ['openid', 'read'], now, 60_000)
    t.same((await store.consentedScopes('u1', 'web', now)).sort(), ['openid', 'read'])
    t.equal(await store.swapGenerationMarker(null, 'g1'), 'g1')
    t.equal(await store.swapGenerationMarker('g1', 'g2'), 'g2')
    t.equal(await store.generationMarker(), 'g2')
  })

  t.test('no cluster error reached a log or an answer; the keys are spread over more than one master', async t => {
    const logs = [a, b, capA, capB].map(s => s.output()).join('\n')
    t.notMatch(logs, CLUSTER_ERRORS, 'no CROSSSLOT/MOVED/ASK/CLUSTERDOWN in any instance\'s log')
    t.same(statuses.filter(s => s >= 500), [], `no 5xx in ${statuses.length} answers`)
    const masters = await cluster.masters()
    t.equal(masters.length, 3)
    const sizes = await Promise.all(masters.map(async port => Number((await cluster.cli(port, 'dbsize')).trim())))
    t.comment(`keys per master: ${masters.map((p, i) => `${p}=${sizes[i]}`).join(', ')}; whole run ${Date.now() - started} ms`)
    t.ok(sizes.filter(n => n > 0).length >= 2, 'more than one master holds keys')
  })
})

async function adminTokenOf(base: string): Promise<string> {
  const r = await post(base, '/oauth2/token', { grant_type: 'client_credentials' }, basicAuthorization(ADMIN.clientId, ADMIN.clientSecret))
  return String(r.body.access_token)
}
