import { randomBytes } from 'node:crypto'
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import t from 'tap'
import { createVerifier, VerifyError } from '../../src/verify/index.js'
import { createPostgresDatabase } from '../helpers/backends.js'
import { nginxBinary, startNginx } from '../helpers/nginx.js'
import { spawnService } from '../helpers/process.js'
import { redisTopologySkip, startRedisServer } from '../helpers/redis-servers.js'
import { freePort } from '../helpers/server.js'
import { PASSWORD as USER_PASSWORD } from '../helpers/app.js'
import { sigilHttp, WEB_BASIC, WEB_CLIENT } from '../helpers/sigil-http.js'

// Issue 14, deliverable 5: a soak under key rotation. Two real Sigil instances (one PostgreSQL,
// a private Redis) behind nginx; the ES256 key rotated every few seconds through the admin API
// (unforced: KEY_LEAD_TIME is short, JWKS_MAX_AGE shorter); refresh chains (one family each,
// refreshed for the whole run) and login loops (a client without refresh tokens), every access
// token used at a resource server and introspected; the resource server verifying every access token with sigil/verify, which honours the JWKS's
// Cache-Control (its refetch of an unknown kid is held off for longer than the run).
// SOAK_SECONDS sets the length (default 30: the whole CI suite has an 8-minute budget).

const skip = await redisTopologySkip() || (!nginxBinary() && 'needs nginx (apt-get install nginx)')
const SOAK_MS = Number(process.env.SOAK_SECONDS ?? 30) * 1000
const WARM_UP_MS = Math.min(15_000, SOAK_MS / 3)
const ROTATE_EVERY_MS = 3000
const CHAINS = 4
const LOGIN_LOOPS = 2
const APP = { client_id: 'app', client_secret: 'app-client-secret-0123456789-0123456789-abc' }
const APP_BASIC = 'Basic ' + Buffer.from(`${APP.client_id}:${APP.client_secret}`).toString('base64')
const SAMPLE_MS = 1000
/** Memory is measured for the last time this long before the load ends, so both measurements are under load. */
const END_SAMPLE_BEFORE_MS = 3000
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

interface Answer { status: number; body: Record<string, unknown> }

async function request(url: string, init: RequestInit): Promise<Answer> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) })
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) as Record<string, unknown> : {} }
}

/** A resource server on a free port: 200 for a token sigil/verify accepts, 401 naming the error class otherwise. */
async function startResourceServer(t: { teardown(fn: () => unknown): void }, issuer: string) {
  const verifier = createVerifier({ issuer, audience: issuer, cooldownMs: 10 * 60_000 })
  const failures: string[] = []
  const server = http.createServer((req, res) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '')
    verifier.verify(token).then(claims => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: claims.sub }))
    }, (err: unknown) => {
      failures.push(err instanceof VerifyError ? `${err.name}: ${err.message}` : String(err))
      res.writeHead(401).end()
    })
  })
  const port = await freePort()
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => server.close(resolve)))
  return { url: `http://127.0.0.1:${port}/`, failures }
}

/**
 * A full garbage collection in a process started with `--inspect=127.0.0.1:<inspectPort>`
 * (the DevTools protocol's HeapProfiler.collectGarbage), so that memory is compared after a
 * collection rather than wherever V8's heap happens to be in its growth cycle.
 */
async function collectGarbage(inspectPort: number): Promise<void> {
  const [target] = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json() as Array<{ webSocketDebuggerUrl: string }>
  const ws = new WebSocket(target!.webSocketDebuggerUrl)
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject })
  const done = new Promise(resolve => { ws.onmessage = e => { if ((JSON.parse(String(e.data)) as { id?: number }).id === 1) resolve(undefined) } })
  ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }))
  await done
  ws.close()
}

const vmRssKb = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN)
/** V8's used heap from the management listener's /metrics (prom-client's default metrics), to tell a leak from RSS noise. */
const heapUsedKb = async (managementUrl: string) =>
  Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(await (await fetch(`${managementUrl}/metrics`)).text())?.[1] ?? NaN) / 1024

t.test(`issue 14: a ${SOAK_MS / 1000} s soak under key rotation: 0 verification failures, 0 unexpected statuses, RSS flat, Redis keys bounded`, { skip, timeout: SOAK_MS + 60_000 }, async t => {
  const redisDir = await mkdtemp(join(tmpdir(), 'sigil-redis-'))
  t.teardown(() => rm(redisDir, { recursive: true, force: true }))
  const redis = await startRedisServer(t, redisDir, () => ['--save', '', '--appendonly', 'no'])
  const proxyPort = await freePort()
  const issuer = `http://127.0.0.1:${proxyPort}`
  const env = {
    DATABASE_URL: await createPostgresDatabase(t, { migrate: true }), REDIS_URL: `redis://127.0.0.1:${redis.port}`, ISSUER: issuer,
    TRUST_PROXY: '127.0.0.1', RATE_LIMIT_IP_FAILURES: '0', KEY_LEAD_TIME: '2', JWKS_MAX_AGE: '1', KEY_ROTATION_INTERVAL: '0',
  }
  const inspectPorts = [await freePort(), await freePort()]
  const instances = await Promise.all(inspectPorts.map(port => spawnService(t, { ...env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:${port}`.trim() })))
  const proxy = await startNginx(t, nginxBinary()!, instances.map(i => i.port), proxyPort)
  const api = sigilHttp(proxy.url)
  await api.createClient({ ...WEB_CLIENT, grant_types: ['password', 'refresh_token'], scopes: ['openid', 'read'] })
  await api.createClient({ ...APP, grant_types: ['password'], scopes: ['openid', 'read'] })
  const users = Array.from({ length: CHAINS }, () => `soak-${randomBytes(4).toString('hex')}`)
  for (const username of users) await api.createUser({ username, password: USER_PASSWORD })
  const rs = await startResourceServer(t, issuer)
  const keys = new Redis(env.REDIS_URL)
  t.teardown(() => keys.disconnect())

  const counts: Record<string, Record<string, number>> = {}
  const unexpected: string[] = []
  const count = (op: string, a: Answer, ok: boolean) => {
    const row = counts[op] ??= {}
    row[a.status] = (row[a.status] ?? 0) + 1
    if (!ok) unexpected.push(`${op}: ${a.status} ${String(a.body.error ?? '')}`)
    return ok
  }
  const form = (basic: string, path: string, body: Record<string, string>) => request(`${proxy.url}${path}`, { method: 'POST', headers: { authorization: basic }, body: new URLSearchParams(body) })
  const endAt = Date.now() + SOAK_MS
  const running = () => Date.now() < endAt

  /** One family per chain, refreshed for the whole run: its access tokens go to the resource server and to introspection. */
  const chain = async (username: string) => {
    while (running()) {
      const login = await form(WEB_BASIC, '/oauth2/token', { grant_type: 'password', username, password: USER_PASSWORD, scope: 'openid read' })
      if (!count('login', login, login.status === 200)) { await sleep(100); continue }
      let tokens = login.body
      while (running()) {
        await useAccessToken(String(tokens.access_token), WEB_BASIC)
        const next = await form(WEB_BASIC, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: String(tokens.refresh_token) })
        if (!count('refresh', next, next.status === 200)) break
        tokens = next.body
      }
    }
  }
  /** Logins through a client without refresh tokens: no family, so nothing kept in Redis per login. */
  const logins = async (username: string) => {
    while (running()) {
      const login = await form(APP_BASIC, '/oauth2/token', { grant_type: 'password', username, password: USER_PASSWORD, scope: 'openid read' })
      if (count('login', login, login.status === 200)) await useAccessToken(String(login.body.access_token), APP_BASIC)
      else await sleep(100)
    }
  }
  const useAccessToken = async (access: string, basic: string) => {
    const used = await request(rs.url, { headers: { authorization: `Bearer ${access}` } })
    count('resource', used, used.status === 200)
    const seen = await form(basic, '/oauth2/introspect', { token: access })
    count('introspect', seen, seen.status === 200 && seen.body.active === true)
  }
  let rotations = 0
  const rotate = async () => {
    while (running()) {
      await sleep(ROTATE_EVERY_MS)
      if (!running()) break
      const rotated = await api.rotate('ES256', false).then(() => true, (err: Error) => err.message)
      if (rotated === true) rotations++
      else unexpected.push(`rotate: ${rotated}`)
    }
  }
  const rssPeakKb = instances.map(() => 0)
  const redisKeys: Array<{ atMs: number; keys: number; memoryBytes: number; requests: number }> = []
  const requests = () => Object.values(counts).flatMap(Object.values).reduce((a, b) => a + b, 0)
  const startMs = Date.now()
  /** Each instance's RSS and V8 heap in kB right after a full collection, under the load. */
  const settledMemory = () => Promise.all(instances.map(async (instance, i) => {
    await collectGarbage(inspectPorts[i]!)
    return { rssKb: await vmRssKb(instance.child.pid!), heapKb: await heapUsedKb(instance.managementUrl) }
  }))
  let atWarmUp: Awaited<ReturnType<typeof settledMemory>> = []
  let atEnd: typeof atWarmUp = []
  const sample = async () => {
    while (running()) {
      const rssKb = await Promise.all(instances.map(i => vmRssKb(i.child.pid!)))
      rssKb.forEach((kb, i) => { rssPeakKb[i] = Math.max(rssPeakKb[i]!, kb) })
      const memoryBytes = Number(/used_memory:(\d+)/.exec(await keys.info('memory'))?.[1])
      redisKeys.push({ atMs: Date.now() - startMs, keys: await keys.dbsize(), memoryBytes, requests: requests() })
      const atMs = Date.now() - startMs
      if (atWarmUp.length === 0 && atMs >= WARM_UP_MS) atWarmUp = await settledMemory()
      if (atEnd.length === 0 && atMs >= SOAK_MS - END_SAMPLE_BEFORE_MS) atEnd = await settledMemory()
      await sleep(SAMPLE_MS)
    }
  }
  await Promise.all([...users.map(chain), ...users.slice(0, LOGIN_LOOPS).map(logins), rotate(), sample()])

  const mib = (kb: number) => (kb / 1024).toFixed(1)
  const change = (pick: (m: { rssKb: number; heapKb: number }) => number) =>
    atWarmUp.map((m, i) => `${mib(pick(m))} -> ${atEnd[i] ? mib(pick(atEnd[i])) : '?'}`).join(', ')
  const keysAtWarmUp = redisKeys.find(s => s.atMs >= WARM_UP_MS) ?? redisKeys[0]!
  const keysAtEnd = redisKeys.at(-1)!
  t.comment(`soak ${SOAK_MS / 1000} s: ${requests()} requests ${JSON.stringify(counts)}; ${rotations} key rotations; ` +
    `resource-server verification failures ${rs.failures.length}; unexpected ${unexpected.length}; ` +
    `after a full GC at ${WARM_UP_MS / 1000} s -> ${(SOAK_MS - END_SAMPLE_BEFORE_MS) / 1000} s: RSS (MiB) ${change(m => m.rssKb)}, V8 heap used ${change(m => m.heapKb)}; ` +
    `RSS peak ${rssPeakKb.map(mib).join(', ')}; ` +
    `Redis keys ${keysAtWarmUp.keys} after ${keysAtWarmUp.requests} requests -> ${keysAtEnd.keys} after ${keysAtEnd.requests} ` +
    `(used_memory ${(keysAtWarmUp.memoryBytes / 1024).toFixed(0)} -> ${(keysAtEnd.memoryBytes / 1024).toFixed(0)} KiB)`)

  t.same(rs.failures.slice(0, 10), [], 'the resource server verified every access token (sigil/verify, JWKS by Cache-Control)')
  t.same(unexpected.slice(0, 10), [], 'no unexpected status: every login, refresh, introspection and rotation succeeded')
  t.ok((counts.resource?.['200'] ?? 0) > 0 && (counts.refresh?.['200'] ?? 0) > 0 && (counts.login?.['200'] ?? 0) > CHAINS, 'the load ran')
  t.ok(rotations >= Math.floor(SOAK_MS / ROTATE_EVERY_MS / 2), `keys were rotated every few seconds (${rotations})`)
  t.ok(atWarmUp.length === 2 && atEnd.length === 2, 'memory was measured after the warm-up and at the end')
  atWarmUp.forEach((m, i) => t.ok(atEnd[i]!.rssKb <= m.rssKb * 1.1, `instance ${i + 1}: RSS flat within 10% after warm-up (${m.rssKb} -> ${atEnd[i]!.rssKb} kB)`))
  // Logins, refreshes, introspections and rotations add no key: the families are the chains'
  // own; transient login-attempt counters (one per login in flight) are the only jitter.
  t.ok(keysAtEnd.keys <= keysAtWarmUp.keys + CHAINS + LOGIN_LOOPS, `Redis key count flat after warm-up (${keysAtWarmUp.keys} -> ${keysAtEnd.keys})`)
  t.ok(instances.every(i => i.child.exitCode === null), 'both instances stayed up')
})
