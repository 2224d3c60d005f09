import t from 'tap'
import { LoadingCache, STALE_IF_ERROR_MS } from '../../src/cache/loading-cache.js'
import { fixedClock } from '../helpers/clock.js'

// Issue 14, deliverable 3: while the database is down, rows read before keep being served
// (clients keep getting client_credentials tokens), for a bounded time and never after a change.

const TTL_MS = 60_000
const down = new Error('database down')

/** A cache over a "database" of rows that can be switched off. */
function cacheOver(rows: Map<string, string>) {
  const clock = fixedClock()
  const db = { isDown: false, reads: 0 }
  const cache = new LoadingCache<string>(async id => {
    db.reads++
    if (db.isDown) throw down
    return rows.get(id) ?? null
  }, clock.now, TTL_MS)
  return { cache, clock, db }
}

t.test('issue 14: an expired row is served while reloading it fails, up to STALE_IF_ERROR_MS past its expiry', async t => {
  const { cache, clock, db } = cacheOver(new Map([['a', 'row a']]))
  t.equal(await cache.get('a'), 'row a')
  db.isDown = true
  t.equal(await cache.get('a'), 'row a', 'fresh: no read')
  t.equal(db.reads, 1)
  clock.advance(TTL_MS + 1)
  t.equal(await cache.get('a'), 'row a', 'expired, the reload fails: the row read before')
  t.equal(db.reads, 2, 'a reload was tried')
  clock.advance(STALE_IF_ERROR_MS)
  await t.rejects(cache.get('a'), down, 'past the stale bound the error comes through')
  db.isDown = false
  t.equal(await cache.get('a'), 'row a', 'and the row is read again once the database is back')
})

t.test('issue 14: no stale answer for an evicted row, an unknown id, or one never read', async t => {
  const { cache, clock, db } = cacheOver(new Map([['a', 'row a']]))
  await cache.get('a')
  t.equal(await cache.get('ghost'), null)
  cache.evict('a')
  db.isDown = true
  clock.advance(TTL_MS + 1)
  await t.rejects(cache.get('a'), down, 'an evicted (changed) row is not served from before the change')
  await t.rejects(cache.get('ghost'), down, 'an unknown id is not answered as unknown while the database cannot say')
  await t.rejects(cache.get('never'), down)
})
