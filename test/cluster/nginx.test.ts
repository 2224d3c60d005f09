import { randomBytes } from 'node:crypto'
import { decodeProtectedHeader } from 'jose'
import t from 'tap'
import { createPostgresDatabase, serverUrls } from '../helpers/backends.js'
import { httpRequest, startLoad } from '../helpers/load.js'
import { nginxBinary, startNginx } from '../helpers/nginx.js'
import { spawnService, type ServiceProcess } from '../helpers/process.js'
import { freePort } from '../helpers/server.js'
import { sigilHttp, WEB_BASIC as BASIC, WEB_CLIENT as CLIENT } from '../helpers/sigil-http.js'
import { PASSWORD } from '../helpers/app.js'
import { sleep } from '../helpers/clock.js'
import { RACE_WINDOW_MS } from '../../src/store/family-ports.js'

const servers = serverUrls()
const nginx = nginxBinary()

interface Answer { status: number; body: Record<string, unknown>; upstream: string | null }

/** A form POST with the client's Basic credentials, to an instance or through nginx. */
async function post(base: string, path: string, form: Record<string, string>): Promise<Answer> {
  const r = await fetch(`${base}${path}`, { method: 'POST', body: new URLSearchParams(form), headers: { authorization: BASIC } })
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) as Record<string, unknown> : {}, upstream: r.headers.get('x-upstream') }
}
const login = (base: string, username: string, password = PASSWORD) => post(base, '/oauth2/token', { grant_type: 'password', username, password, scope: 'openid read' })
const refresh = (base: string, token: string) => post(base, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: token })
const introspect = async (base: string, token: string) => (await post(base, '/oauth2/introspect', { token })).body
const kidOf = (jwt: unknown) => decodeProtectedHeader(String(jwt)).kid

t.test('two instances behind nginx on one PostgreSQL and one Redis', {
  skip: !servers ? 'needs DATABASE_URL and REDIS_URL' : !nginx ? 'needs nginx (apt-get install nginx)' : false,
}, async t => {
  const databaseUrl = await createPostgresDatabase(t, { migrate: true })
  const proxyPort = await freePort()
  const env = {
    DATABASE_URL: databaseUrl, REDIS_URL: servers!.redisUrl, ISSUER: `http://127.0.0.1:${proxyPort}`, TRUST_PROXY: '127.0.0.1',
    RATE_LIMIT_USER_FAILURES: '3', RATE_LIMIT_IP_FAILURES: '0', KEY_LEAD_TIME: '1', JWKS_MAX_AGE: '0', KEY_ROTATION_INTERVAL: '0',
  }
  const instances: ServiceProcess[] = await Promise.all([spawnService(t, env), spawnService(t, env)])
  let [a, b] = instances as [ServiceProcess, ServiceProcess]
  const proxy = await startNginx(t, nginx!, [a.port, b.port], proxyPort)
  const api = sigilHttp(proxy.url)
  // Usernames are unique per run: failed-login counters live in the shared Redis.
  const alice = `alice-${randomBytes(4).toString('hex')}`
  const bob = `bob-${randomBytes(4).toString('hex')}`

  t.test('a client and users made through nginx; logins through nginx reach both instances', async t => {
    await api.createClient({ ...CLIENT, grant_types: ['password', 'refresh_token', 'client_credentials'], scopes: ['openid', 'read'] })
    await api.createUser({ username: alice, password: PASSWORD })
    await api.createUser({ username: bob, password: PASSWORD })
    const upstreams = new Set<string>()
    for (let i = 0; i < 3; i++) {
      const r = await login(proxy.url, alice)
      t.equal(r.status, 200, 'a login through nginx')
      const next = await refresh(proxy.url, String(r.body.refresh_token))
      t.equal(next.status, 200, 'and a refresh through nginx')
      for (const x of [r, next]) upstreams.add(x.upstream ?? '')
    }
    t.same([...upstreams].sort(), [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`].sort(), 'nginx spread them over both instances')
  })

  t.test('a refresh token minted by one instance rotates on the other; reuse on either ends the family', async t => {
    const first = await login(a.url, alice)
    const second = await refresh(b.url, String(first.body.refresh_token))
    t.equal(second.status, 200, 'minted by A, rotated by B')
    const third = await refresh(a.url, String(second.body.refresh_token))
    t.equal(third.status, 200, 'and back on A')
    await sleep(RACE_WINDOW_MS + 100) // past the concurrent-duplicate window: presenting a rotated token is now reuse
    t.equal((await refresh(b.url, String(first.body.refresh_token))).body.error, 'invalid_grant', 'the first token again, on B: reuse')
    t.equal((await refresh(a.url, String(third.body.refresh_token))).body.error, 'invalid_grant', 'A sees the family revoked')
  })

  t.test('a revocation through one instance is seen by the other', async t => {
    const tokens = await login(b.url, alice)
    const access = String(tokens.body.access_token)
    t.equal((await introspect(a.url, access)).active, true)
    t.equal((await post(a.url, '/oauth2/revoke', { token: access })).status, 200, 'access token revoked on A')
    t.same(await introspect(b.url, access), { active: false }, 'B: inactive')
    t.equal((await post(b.url, '/oauth2/revoke', { token: String(tokens.body.refresh_token) })).status, 200, 'refresh token revoked on B')
    t.equal((await refresh(a.url, String(tokens.body.refresh_token))).body.error, 'invalid_grant', 'A refuses it')
    const viaProxy = await login(proxy.url, alice)
    t.equal((await post(proxy.url, '/oauth2/revoke', { token: String(viaProxy.body.access_token) })).status, 200)
    t.same(await introspect(proxy.url, String(viaProxy.body.access_token)), { active: false }, 'and through nginx')
  })

  t.test('a key rotation through nginx: both instances sign with the new current key', async t => {
    const rotated = await api.rotate('ES256')
    const fresh = rotated.current.kid
    const token = async (base: string) => kidOf((await post(base, '/oauth2/token', { grant_type: 'client_credentials', scope: 'read' })).body.access_token)
    for (const [name, s] of [['A', a], ['B', b]] as const) {
      const until = Date.now() + 5000
      while ((await token(s.url)) !== fresh && Date.now() < until) await sleep(100)
      t.equal(await token(s.url), fresh, `${name} signs with ${fresh}`)
    }
    const jwks = await (await fetch(`${proxy.url}/.well-known/jwks.json`)).json() as { keys: Array<{ kid: string }> }
    t.ok(jwks.keys.some(k => k.kid === rotated.next.kid), 'the new next key is published')
  })

  t.test('failed logins spread over both instances share one back-off', async t => {
    const statuses: number[] = []
    for (const s of [a, b, a]) statuses.push((await login(s.url, bob, 'wrong password')).status)
    t.same(statuses, [400, 400, 400], 'three failures, on A, B and A')
    const next = await login(proxy.url, bob, 'wrong password')
    t.equal(next.status, 429, 'the fourth, through nginx, backs off')
    t.equal((await login(b.url, bob)).status, 429, 'even with the right password, on B')
  })

  t.test('a rolling restart under load through nginx loses no request', async t => {
    let retried = 0
    const load = startLoad({
      concurrency: 4,
      pauseMs: 5,
      send: (agent, n) => n % 2 === 0
        ? httpRequest(agent, `${proxy.url}/oauth2/token`, {
          method: 'POST', body: 'grant_type=client_credentials&scope=read',
          headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
        })
        : httpRequest(agent, `${proxy.url}/.well-known/jwks.json`),
      ok: answer => {
        if (String(answer.headers['x-upstream']).includes(',')) retried++
        return answer.status === 200
      },
      maxMs: 90_000,
    })
    const routedTo = async (s: ServiceProcess) => {
      const until = Date.now() + 20_000
      while (Date.now() < until) {
        const r = await fetch(`${proxy.url}/healthz`)
        if (r.headers.get('x-upstream') === `127.0.0.1:${s.port}`) return true
        await sleep(50)
      }
      return false
    }
    const restart = async (s: ServiceProcess, name: string) => {
      t.equal(await s.stop(), 0, `${name} drained and exited 0`)
      const again = await spawnService(t, env, { port: s.port })
      t.ok(await routedTo(again), `nginx routes to ${name} again`)
      return again
    }
    await sleep(500)
    a = await restart(a, 'A')
    b = await restart(b, 'B')
    await sleep(500)
    const report = await load.stop()
    t.comment(`rolling restart: ${report.sent} requests sent through nginx, ${report.failures.length} failed, ${retried} retried on the other instance; statuses ${JSON.stringify(report.statuses)}`)
    t.ok(report.sent > 100, 'the load ran throughout')
    t.same(report.failures, [], 'no request lost')
    if (report.failures.length > 0) t.comment(await proxy.errorLog())
  })
})
