import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createPostgresDatabase } from '../helpers/backends.js'
import { spawnService } from '../helpers/process.js'
import { redisTopologySkip, startRedisSentinel } from '../helpers/redis-servers.js'
import { sigilHttp, USER_PASSWORD as PASSWORD, WEB_BASIC as BASIC, WEB_CLIENT as CLIENT } from '../helpers/sigil-http.js'

// Issue 14, deliverable 2: Sigil on Redis Sentinel (one master, one replica, three sentinels)
// through the documented redis-sentinel:// host list; the master is killed under a bounded
// refresh load. Sigil answers 503 (never 500) during the failover and recovers by itself.

const skip = await redisTopologySkip()
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const WORKERS = 4
/** Bounds of the load: it stops by itself after this long or this many requests. */
const MAX_LOAD_MS = 40_000
const MAX_REQUESTS = 6000
/** The load stops once refreshes have succeeded this long after the failover without a 503. */
const STEADY_MS = 2000

interface Answer { status: number; body: Record<string, unknown> }
async function post(base: string, form: Record<string, string>): Promise<Answer> {
  const r = await fetch(`${base}/oauth2/token`, { method: 'POST', body: new URLSearchParams(form), headers: { authorization: BASIC }, signal: AbortSignal.timeout(10_000) })
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) as Record<string, unknown> : {} }
}

t.test('issue 14: a Sentinel failover under a refresh load gives 503s, never 500, and Sigil recovers by itself', {
  skip, timeout: 90_000,
}, async t => {
  const sentinel = await startRedisSentinel(t, { downAfterMs: 1000 })
  const databaseUrl = await createPostgresDatabase(t, { migrate: true })
  const sigil = await spawnService(t, { DATABASE_URL: databaseUrl, REDIS_URL: sentinel.url, ISSUER: 'http://sigil.test', RATE_LIMIT_IP_FAILURES: '0' })
  await sigilHttp(sigil.url).createClient({ ...CLIENT, grant_types: ['password', 'refresh_token'], scopes: ['openid', 'read'] })
  const users = Array.from({ length: WORKERS }, () => `u-${randomBytes(4).toString('hex')}`)
  for (const username of users) await sigilHttp(sigil.url).createUser({ username, password: PASSWORD })

  const statuses: Record<string, number> = {}
  const invalidGrants: Record<string, number> = {}
  const unexpected: string[] = []
  let sent = 0
  let killedAt = 0
  let last503At = 0
  let lastOkAt = 0
  const endAt = Date.now() + MAX_LOAD_MS
  const done = () => Date.now() > endAt || sent >= MAX_REQUESTS ||
    (killedAt > 0 && last503At > killedAt && lastOkAt - last503At > STEADY_MS)
  const worker = async (username: string) => {
    let token: string | undefined
    while (!done()) {
      sent++
      let a: Answer
      try {
        a = token === undefined
          ? await post(sigil.url, { grant_type: 'password', username, password: PASSWORD, scope: 'openid read' })
          : await post(sigil.url, { grant_type: 'refresh_token', refresh_token: token })
      } catch (err) {
        unexpected.push(`no answer: ${(err as Error).message}`)
        await sleep(50)
        continue
      }
      statuses[a.status] = (statuses[a.status] ?? 0) + 1
      if (a.status === 200) {
        token = String(a.body.refresh_token)
        lastOkAt = Date.now()
      } else if (a.status === 503) {
        last503At = Date.now()
        await sleep(50)
      } else if (a.status === 400 && a.body.error === 'invalid_grant') {
        // Why a token that was handed out is refused now: see the comment at the figures.
        const why = String(a.body.error_description)
        invalidGrants[why] = (invalidGrants[why] ?? 0) + 1
        token = undefined
      } else {
        unexpected.push(`${a.status} ${JSON.stringify(a.body).slice(0, 200)}`)
      }
      await sleep(10)
    }
  }
  const load = Promise.all(users.map(worker))
  await sleep(2000)
  const before = { ...statuses }
  const oldMaster = sentinel.master.port
  killedAt = Date.now()
  await sentinel.master.kill()
  await load
  const promoted = await sentinel.masterPort()

  const outageMs = last503At > killedAt ? last503At - killedAt : 0
  t.comment(`sentinel failover: ${sent} requests; before the kill ${JSON.stringify(before)}; in all ${JSON.stringify(statuses)}; ` +
    `503s until ${(outageMs / 1000).toFixed(1)} s after the kill; master ${oldMaster} -> ${promoted}; invalid_grant after the failover ${JSON.stringify(invalidGrants)}`)
  t.same(unexpected, [], 'every answer was 200, 400 invalid_grant or 503; none was a 500 or missing')
  t.equal(statuses['500'] ?? 0, 0, 'no 500')
  t.ok((before['200'] ?? 0) > 0, 'the load was served before the kill')
  t.not(promoted, oldMaster, 'the sentinels promoted the replica')
  t.equal(promoted, sentinel.replica.port)
  t.ok((statuses['503'] ?? 0) > 0, 'the failover was seen (503s)')
  t.ok(lastOkAt - last503At > STEADY_MS, `refreshes succeed again without a restart, for ${STEADY_MS} ms and more`)
  t.ok(outageMs < 20_000, `recovered ${(outageMs / 1000).toFixed(1)} s after the kill`)
  // Writes acknowledged by the old master but not yet copied to the replica are lost on
  // failover ('unknown, expired or revoked'); an answer lost with the master makes the client
  // present its token again ('just rotated' within 2 s, 'reuse' after). Both are reported.
  t.equal(sigil.child.exitCode, null, 'the process stayed up')
})
