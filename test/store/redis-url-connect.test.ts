import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import rateLimit from '@fastify/rate-limit'
import Fastify from 'fastify'
import t from 'tap'
import { TemporarilyUnavailable } from '../../src/errors.js'
import { systemClock } from '../../src/clock.js'
import { requestCapStore } from '../../src/rate-limit/request-cap.js'
import { connectRedis } from '../../src/store/redis/connection.js'
import { createRedisStore, STORE_OPERATION_TIMEOUT_MS } from '../../src/store/redis/redis-store.js'
import { redisTopologySkip, startRedisCluster, startRedisSentinel } from '../helpers/redis-servers.js'
import { freePort } from '../helpers/server.js'

// Issue 14: the documented optional parts of the multi-host URLs connect as documented: a
// percent-encoded password on a cluster, a database number behind a sentinel master name.

const skip = await redisTopologySkip()
// The four tests share nothing and mostly wait (topologies starting, a store bounding its wait): run them at once.
t.jobs = 4
const run = promisify(execFile)
const PASSWORD = 'p@ss:word/1'

t.test('issue 14: redis-cluster://:password@… authenticates to every node; a wrong password is refused', { skip, timeout: 60_000 }, async t => {
  const cluster = await startRedisCluster(t, { masters: 3, password: PASSWORD })
  const hosts = cluster.url.replace('redis-cluster://', '')
  const good = connectRedis(`redis-cluster://:${encodeURIComponent(PASSWORD)}@${hosts}`)
  t.teardown(() => good.disconnect())
  // Keys in many slots: every master must accept the password.
  const keys = Array.from({ length: 30 }, (_, i) => `k${i}`)
  for (const key of keys) await good.set(key, key)
  t.same(await Promise.all(keys.map(k => good.get(k))), keys, 'written and read on every master')
  const sizes = await Promise.all((await cluster.masters()).map(async port => Number(await cluster.cli(port, 'dbsize'))))
  t.ok(sizes.every(n => n > 0), `keys on every master: ${sizes.join(', ')}`)

  // ioredis keeps a Cluster's commands queued while no node accepts it: the store bounds the wait.
  const bad = createRedisStore({ url: `redis-cluster://:wrong@${hosts}` })
  t.teardown(() => bad.close())
  const started = Date.now()
  await t.rejects(bad.isAccessTokenDenied('jti', Date.now()), TemporarilyUnavailable, 'a wrong password: 503, not a hang')
  t.ok(Date.now() - started < STORE_OPERATION_TIMEOUT_MS + 1500, `within the bound (${Date.now() - started} ms)`)
})

t.test('issue 14: a Redis Cluster with no reachable node answers 503 within the bound instead of hanging', { skip, timeout: 30_000 }, async t => {
  const dead = [await freePort(), await freePort()].map(p => `127.0.0.1:${p}`).join(',')
  const store = createRedisStore({ url: `redis-cluster://${dead}` })
  t.teardown(() => store.close())
  const started = Date.now()
  await Promise.all([
    t.rejects(store.userRevokedAtMs('u1', Date.now()), TemporarilyUnavailable, 'a store operation: 503'),
    t.rejects(store.ping(), 'and the readiness probe fails'),
  ])
  t.ok(Date.now() - started < STORE_OPERATION_TIMEOUT_MS + 1500, `refused after ${Date.now() - started} ms`)
})

t.test('issue 14: redis-sentinel://…/mymaster/3 writes to database 3 of the master the sentinels name', { skip, timeout: 60_000 }, async t => {
  const sentinel = await startRedisSentinel(t)
  const client = connectRedis(`${sentinel.url}/3`)
  t.teardown(() => client.disconnect())
  await client.set('sigil-url-test', 'db3')
  const read = async (db: number) => (await run('redis-cli', ['-p', String(sentinel.master.port), '-n', String(db), 'get', 'sigil-url-test'])).stdout.trim()
  t.equal(await read(3), 'db3', 'in database 3 of the master')
  t.equal(await read(0), '', 'not in database 0')
})

t.test('issue 14: RATE_LIMIT_IP on a Cluster with no reachable node lets requests on within the bound (skipOnError), not hang', { skip, timeout: 30_000 }, async t => {
  const dead = [await freePort(), await freePort()].map(p => `127.0.0.1:${p}`).join(',')
  const store = createRedisStore({ url: `redis-cluster://${dead}` })
  t.teardown(() => store.close())
  const app = Fastify()
  await app.register(rateLimit, { max: 5, timeWindow: 60_000, store: requestCapStore({ store, clock: systemClock }), skipOnError: true })
  app.get('/', async () => ({ ok: true }))
  t.teardown(() => app.close())
  const started = Date.now()
  const r = await app.inject({ method: 'GET', url: '/' })
  t.equal(r.statusCode, 200, 'the volume cap is skipped, the request served')
  t.ok(Date.now() - started < STORE_OPERATION_TIMEOUT_MS + 1500, `after ${Date.now() - started} ms`)
})
