import t from 'tap'
import { LoadingCache } from '../../src/cache/loading-cache.js'
import { TtlCache } from '../../src/cache/ttl-cache.js'
import { fixedClock } from '../helpers/clock.js'

t.test('issue 15: an entry is gone once its ttl has passed on the injected clock, not before', async t => {
  const clock = fixedClock(1_000_000)
  const cache = new TtlCache<string, string>({ max: 10, now: clock.now })
  cache.set('a', 'x', 1000)
  clock.advance(999)
  t.equal(cache.get('a'), 'x', 'kept through 999 ms')
  clock.advance(1)
  t.equal(cache.get('a'), undefined, 'gone at 1000 ms, as a Redis PX key')
  cache.set('b', 'y', 0)
  t.equal(cache.get('b'), undefined, 'a ttl of 0 keeps nothing')
})

t.test('issue 15: moving the clock within the same real millisecond is seen at once', async t => {
  const clock = fixedClock(5_000)
  const cache = new TtlCache<string, number>({ max: 10, now: clock.now })
  cache.set('k', 1, 10)
  t.equal(cache.get('k'), 1)
  clock.advance(10_000)
  t.equal(cache.get('k'), undefined)
})

t.test('issue 15: past max the least recently used entry goes, and only that one', async t => {
  const clock = fixedClock(5_000)
  const cache = new TtlCache<string, number>({ max: 3, now: clock.now })
  for (const k of ['a', 'b', 'c']) cache.set(k, 1, 60_000)
  cache.get('a')
  cache.set('d', 1, 60_000)
  t.same(['a', 'b', 'c', 'd'].map(k => cache.get(k) !== undefined), [true, false, true, true])
  t.equal(cache.size, 3)
})

t.test('issue 15: LoadingCache keeps rows by the clock and drops one row when full, not all', async t => {
  const clock = fixedClock(5_000)
  let loads = 0
  const cache = new LoadingCache<string>(async id => { loads++; return id === 'none' ? null : `row ${id}` }, clock.now, 60_000)
  t.equal(await cache.get('a'), 'row a')
  t.equal(await cache.get('a'), 'row a')
  t.equal(loads, 1, 'one read per ttl')
  clock.advance(5_000)
  t.equal(await cache.get('none'), null)
  t.equal(await cache.get('none'), null)
  t.equal(loads, 2, 'an unknown id is cached too')
  clock.advance(5_000)
  await cache.get('none')
  t.equal(loads, 3, 'an unknown id for 5 s only')
  clock.advance(50_000)
  await cache.get('a')
  t.equal(loads, 4, 'a row for ttlMs')
  for (let i = 0; i < 10_000; i++) await cache.get(`flood-${i}`)
  const before = loads
  await cache.get('flood-9999')
  t.equal(loads, before, 'the newest rows survive a full cache')
})
