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

    t.test('issue 11: takeAttemptSlot refuses once failures plus attempts in flight reach the limit', async t => {
      const key = 'ip:a'
      t.same(await store.takeAttemptSlot(key, T0, 60, 2), { allowed: true })
      t.same(await store.takeAttemptSlot(key, T0, 60, 2), { allowed: true })
      t.same(await store.takeAttemptSlot(key, T0 + 1000, 60, 2), { allowed: false, failures: 0 }, 'two in flight fill a limit of 2')
      await store.endAttempt(key, T0, 60, false)
      t.same(await store.takeAttemptSlot(key, T0 + 1000, 60, 2), { allowed: true }, 'a success gives its slot back')
      await store.endAttempt(key, T0, 60, true)
      await store.endAttempt(key, T0 + 1000, 60, true)
      t.same(await store.takeAttemptSlot(key, T0 + 2000, 60, 2), { allowed: false, failures: 2 }, 'failures keep their slots')
      t.same(await store.takeAttemptSlot(key, T0 + 2000, 60, 3), { allowed: true }, 'the limit is the caller\'s')
      t.same(await store.takeAttemptSlot('ip:b', T0, 60, 2), { allowed: true }, 'keys are independent')
    })

    t.test('a new window starts from zero', async t => {
      await store.takeAttemptSlot('ip:w', T0, 60, 1)
      await store.endAttempt('ip:w', T0, 60, true)
      t.same(await store.takeAttemptSlot('ip:w', T0 + 59_000, 60, 1), { allowed: false, failures: 1 })
      t.same(await store.takeAttemptSlot('ip:w', T0 + 60_000, 60, 1), { allowed: true })
    })

    t.test('issue 12: recordFailure counts one failure in its window without a slot, leaving slots in flight as they are', async t => {
      await store.recordFailure('ip:rec', T0, 60)
      t.same(await store.takeAttemptSlot('ip:rec', T0 + 1000, 60, 1), { allowed: false, failures: 1 }, 'a window made by the failure')
      t.same(await store.takeAttemptSlot('ip:rec', T0 + 1000, 60, 3), { allowed: true })
      await store.recordFailure('ip:rec', T0 + 2000, 60)
      t.same(await store.takeAttemptSlot('ip:rec', T0 + 3000, 60, 3), { allowed: false, failures: 2 }, 'two failures and one in flight')
      t.same(await store.takeAttemptSlot('ip:rec', T0 + 60_000, 60, 1), { allowed: true }, 'the next window starts from zero')
    })

    t.test('ending a slot of a window that is over changes nothing', async t => {
      await store.takeAttemptSlot('ip:late', T0, 60, 1)
      await store.takeAttemptSlot('ip:late', T0 + 60_000, 60, 1)
      await store.endAttempt('ip:late', T0, 60, true)
      t.same(await store.takeAttemptSlot('ip:late', T0 + 60_000, 60, 1), { allowed: false, failures: 0 }, 'the new window holds only its own slot')
    })

    t.test('issue 11: a burst of parallel takes gets at most the limit of slots (atomic)', async t => {
      const verdicts = await Promise.all(Array.from({ length: 200 }, () => store.takeAttemptSlot('ip:burst', T0, 60, 5)))
      t.equal(verdicts.filter(v => v.allowed).length, 5)
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

    t.test('issue 15: a record untouched for forgetAfterSec is forgotten by the caller\'s clock', async t => {
      const key = 'user:forget'
      const short = { ...policy, forgetAfterSec: 1 }
      for (let i = 0; i < 4; i++) await store.beginAttempt(key, T0, short)
      t.same(await store.beginAttempt(key, T0 + 999, short), { allowed: false, retryAfterMs: 1 }, 'remembered until then')
      t.same(await store.beginAttempt(key, T0 + 1000, short), { allowed: true })
      t.same(await store.beginAttempt(key, T0 + 1000, short), { allowed: true }, 'counting starts over')
    })

    t.test('parallel attempts cannot slip past the gate', async t => {
      const verdicts = await Promise.all(Array.from({ length: 30 }, () => store.beginAttempt('user:parallel', T0, policy)))
      t.equal(verdicts.filter(v => v.allowed).length, 3)
    })

    t.test('issue 15: countRequest counts the requests of a window opened by the first one, and says when it ends', async t => {
      t.same(await store.countRequest('ip:c', T0, 60_000), { count: 1, resetInMs: 60_000 })
      t.same(await store.countRequest('ip:c', T0 + 1500, 60_000), { count: 2, resetInMs: 58_500 })
      t.same(await store.countRequest('ip:d', T0 + 1500, 60_000), { count: 1, resetInMs: 60_000 }, 'keys are independent')
      t.same(await store.countRequest('ip:c', T0 + 59_999, 60_000), { count: 3, resetInMs: 1 })
      t.same(await store.countRequest('ip:c', T0 + 60_000, 60_000), { count: 1, resetInMs: 60_000 }, 'a request after the window opens the next one')
    })

    t.test('issue 15: parallel countRequest calls never share a count (atomic)', async t => {
      const counts = await Promise.all(Array.from({ length: 50 }, () => store.countRequest('ip:parallel', T0, 60_000)))
      t.same(counts.map(c => c.count).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1))
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
