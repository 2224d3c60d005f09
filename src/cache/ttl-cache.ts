import { LRUCache } from 'lru-cache'

export interface TtlCacheOptions {
  /** At most this many entries; past it the least recently used one goes (a flood cannot exhaust memory). */
  max: number
  /** The caller's clock in epoch ms (an injected Clock's `now`): entries expire by it, never by a timer. */
  now: () => number
}

/**
 * The one cache of Sigil (issue 15): a bounded map whose entries each live their own `ttlMs`
 * on the caller's clock, on `lru-cache`. Nothing runs in the background: an expired entry is
 * never returned and is dropped when read or when room is needed. Every in-process cache and
 * memory adapter keeps its entries here instead of in a hand-written eviction policy.
 */
export class TtlCache<K extends NonNullable<unknown>, V extends NonNullable<unknown>> {
  private readonly lru: LRUCache<K, V>

  constructor(private readonly opts: TtlCacheOptions) {
    this.lru = new LRUCache<K, V>({
      // maxSize of unit-sized entries, not `max`: `max` allocates every slot at construction.
      maxSize: opts.max,
      sizeCalculation: () => 1,
      // Read the clock on every check (the default reuses a reading for 1 ms of real time,
      // which an injected clock outruns), and purge by no timer of its own.
      ttlResolution: 0,
      ttlAutopurge: false,
      perf: { now: opts.now },
    })
  }

  /** The value, or undefined when there is none or it has expired. */
  get(key: K): V | undefined {
    return this.lru.get(key)
  }

  /**
   * Keeps `value` for `ttlMs`: from `now() + ttlMs` on it is gone, as a Redis PX key would be.
   * A `ttlMs` of 0 or less keeps nothing (and drops what was there).
   */
  set(key: K, value: V, ttlMs: number): void {
    if (!(ttlMs > 0)) {
      this.lru.delete(key)
      return
    }
    // lru-cache still returns an entry when exactly `ttl` has passed; starting it 1 ms
    // earlier makes it gone at `now() + ttlMs`.
    this.lru.set(key, value, { ttl: ttlMs, start: this.opts.now() - 1 })
  }

  delete(key: K): void {
    this.lru.delete(key)
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.lru.size
  }
}
