import { Redis } from 'ioredis'
import t from 'tap'
import type { BackoffPolicy, Store } from '../../src/store/ports.js'
import { openTestStore, testPrefix } from '../helpers/backends.js'

/** Both adapters, one contract (Redis when REDIS_URL is set; under CI=true it must be). */
const adapters: Array<Store['kind']> = ['memory']
if (process.env.REDIS_URL) adapters.push('redis')
else if (process.env.CI === 'true') throw new Error('CI=true but REDIS_URL is not set: the Redis adapter must be tested')

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0)
const policy: BackoffPolicy = { freeAttempts: 3, baseDelayMs: 1000, maxDelayMs: 8000, forgetAfterSec: 3600 }

for (const kind of adapters) {
  t.test(kind, async t => {
    const prefix = testPrefix()
    const store = await openTestStore(t, kind, prefix)

    t.test('recordFailure counts within a window and returns the new count', async t => {
      t.equal(await store.failureCount('ip:a', T0, 60), 0)
      t.same([await store.recordFailure('ip:a', T0, 60), await store.recordFailure('ip:a', T0 + 59_000, 60)], [1, 2])
      t.equal(await store.failureCount('ip:a', T0 + 1000, 60), 2, 'failureCount reads without counting')
      t.equal(await store.failureCount('ip:a', T0 + 1000, 60), 2)
      t.equal(await store.failureCount('ip:b', T0, 60), 0, 'keys are independent')
    })

    t.test('a new window starts from zero', async t => {
      await store.recordFailure('ip:w', T0, 60)
      t.equal(await store.failureCount('ip:w', T0 + 60_000, 60), 0)
      t.equal(await store.recordFailure('ip:w', T0 + 60_000, 60), 1)
    })

    t.test('concurrent failures are each counted once (atomic)', async t => {
      const counts = await Promise.all(Array.from({ length: 50 }, () => store.recordFailure('ip:burst', T0, 60)))
      t.same([...counts].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1))
    })

    t.test('beginAttempt allows the free attempts, then backs off doubling up to the cap', async t => {
      const key = 'user:backoff'
      for (let i = 0; i < 3; i++) t.same(await store.beginAttempt(key, T0, policy), { allowed: true }, `free attempt ${i + 1}`)
      t.same(await store.beginAttempt(key, T0 + 999, policy), { allowed: false, retryAfterMs: 1 }, 'waits 1000 ms')
      t.same(await store.beginAttempt(key, T0 + 500, policy), { allowed: false, retryAfterMs: 500 }, 'a refusal counts nothing')
      let now = T0 + 1000
      for (const delayMs of [2000, 4000, 8000, 8000]) {
        t.same(await store.beginAttempt(key, now, policy), { allowed: true })
        t.same(await store.beginAttempt(key, now + delayMs - 1, policy), { allowed: false, retryAfterMs: 1 }, `waits ${delayMs} ms`)
        now += delayMs
      }
    })

    t.test('resetAttempts forgets the attempts', async t => {
      const key = 'user:reset'
      for (let i = 0; i < 4; i++) await store.beginAttempt(key, T0, policy)
      t.equal((await store.beginAttempt(key, T0, policy)).allowed, false)
      await store.resetAttempts(key)
      t.same(await store.beginAttempt(key, T0, policy), { allowed: true })
    })

    t.test('a record untouched for forgetAfterSec is forgotten', async t => {
      const key = 'user:forget'
      const short = { ...policy, forgetAfterSec: 1 }
      for (let i = 0; i < 4; i++) await store.beginAttempt(key, T0, short)
      if (kind === 'redis') await new Promise(r => setTimeout(r, 1100)) // Redis expires by its own time
      t.same(await store.beginAttempt(key, T0 + 1000, short), { allowed: true })
      t.same(await store.beginAttempt(key, T0 + 1000, short), { allowed: true }, 'counting starts over')
    })

    t.test('parallel attempts cannot slip past the gate', async t => {
      const verdicts = await Promise.all(Array.from({ length: 30 }, () => store.beginAttempt('user:parallel', T0, policy)))
      t.equal(verdicts.filter(v => v.allowed).length, 3)
    })

    if (kind === 'redis') {
      t.test('every key lives under the prefix and has a TTL', async t => {
        const redis = new Redis(process.env.REDIS_URL!)
        t.teardown(() => redis.disconnect())
        const keys = await redis.keys(`${prefix}*`)
        t.ok(keys.length >= 2)
        for (const key of keys) t.ok(await redis.ttl(key) > 0, `${key} expires`)
      })
    }
  })
}
