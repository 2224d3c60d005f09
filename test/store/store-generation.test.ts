import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { createStoreGenerationRepo } from '../../src/db/store-generation-repo.js'
import { createLogger } from '../../src/log.js'
import { createStoreGeneration } from '../../src/revocation/store-generation.js'
import { createMemoryStore } from '../../src/store/memory/memory-store.js'
import type { Store } from '../../src/store/ports.js'
import { redisConnectionOf } from '../../src/store/redis/redis-store.js'
import { backends, openTestDatabase, openTestStore } from '../helpers/backends.js'
import { fixedClock } from '../helpers/clock.js'

// Issue 11, deliverable 6: the store's generation marker (one contract for both adapters) and
// how instances agree on a new generation after a loss.

async function setUp(t: Test, backend: ReturnType<typeof backends>[number]) {
  const db = await openTestDatabase(t, backend.db)
  const store = await openTestStore(t, backend.store)
  const lines: Array<{ level: number; event?: string }> = []
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done() } })
  const instance = (on: Store = store, issuanceReuseMs?: number) =>
    createStoreGeneration({ store: on, repo: createStoreGenerationRepo(db.prisma), clock: fixedClock(), log: createLogger('info', sink), issuanceReuseMs })
  /** Makes the store lose its data; returns the store to use from then on. */
  const lose = async (): Promise<Store> => {
    const redis = redisConnectionOf(store)
    if (!redis) return createMemoryStore()
    await redis.client.del(`${redis.prefix}generation`)
    return store
  }
  return { store, instance, lose, losses: () => lines.filter(l => l.event === 'store_generation_changed').length }
}

for (const backend of backends()) {
  t.test(backend.name, async t => {
    t.test('the marker: absent at first, swapped only from the expected value', async t => {
      const store = await openTestStore(t, backend.store)
      t.equal(await store.generationMarker(), null)
      t.equal(await store.swapGenerationMarker(null, 'g1'), 'g1')
      t.equal(await store.swapGenerationMarker(null, 'g2'), 'g1', 'a second writer after a loss keeps the first one\'s marker')
      t.equal(await store.swapGenerationMarker('other', 'g2'), 'g1')
      t.equal(await store.swapGenerationMarker('g1', 'g2'), 'g2')
      t.equal(await store.generationMarker(), 'g2')
    })

    t.test('a first start records a generation without reporting a loss; instances agree on it', async t => {
      const { instance, losses } = await setUp(t, backend)
      const [a, b] = [instance(), instance()]
      const [ga, gb] = await Promise.all([a.check(), b.check()])
      t.equal(ga, gb)
      t.equal(await a.current(), ga)
      t.equal(losses(), 0)
    })

    t.test('a lost marker: every instance moves to one new generation, reported once', async t => {
      const { instance, lose, losses } = await setUp(t, backend)
      const before = await instance().check()
      const after = await lose()
      const seen = await Promise.all([instance(after).current(), instance(after).current(), instance(after).check()])
      t.not(seen[0], before)
      t.same(seen, [seen[0], seen[0], seen[0]], 'one new generation for all')
      t.equal(losses(), 1)
    })

    t.test('issue 12: issuance reuses the generation confirmed last, without a store read; a loss noticed by a check moves it on', async t => {
      const { store, instance, lose } = await setUp(t, backend)
      let reads = 0
      const counting = (on: Store): Store => Object.assign(Object.create(on) as Store, {
        generationMarker: () => { reads++; return on.generationMarker() },
      })
      const a = instance(counting(store), 60_000)
      const first = await a.check()
      reads = 0
      t.same(await Promise.all([a.forIssuance(), a.forIssuance(), a.forIssuance()]), [first, first, first])
      t.equal(reads, 0, 'no store read per token while the confirmation is fresh')
      const after = await lose()
      const b = instance(counting(after), 60_000)
      const next = await b.current()
      t.not(next, first, 'the loss is noticed by a check')
      t.equal(await b.forIssuance(), next, 'and issuance follows it at once')
      const never = instance(counting(after), 0)
      reads = 0
      t.equal(await never.forIssuance(), next)
      t.equal(await never.forIssuance(), next)
      t.ok(reads >= 2, 'with no reuse window every issuance reads the marker')
    })

    t.test('a stale marker (a replica from before a loss) is a loss too, caught by the periodic check', async t => {
      const { store, instance, losses } = await setUp(t, backend)
      const a = instance()
      const first = await a.check()
      // Another instance moved on to a new generation, retiring the first one.
      await store.swapGenerationMarker(first, 'moved-on')
      t.equal(await instance().current(), 'moved-on', 'an unknown marker is another instance\'s recovery: adopted')
      t.equal(losses(), 1, 'and reported once, by whichever instance records it')
      // The first marker comes back (a stale replica) while `a` still takes it for current.
      await store.swapGenerationMarker('moved-on', first)
      t.equal(await a.current(), first, 'between checks, a knows no better')
      const next = await a.check()
      t.not(next, first)
      t.not(next, 'moved-on')
      t.equal(await instance().current(), next)
      t.equal(losses(), 2)
    })
  })
}
