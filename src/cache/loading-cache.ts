import { TtlCache } from './ttl-cache.js'

const MAX_ENTRIES = 10_000
/**
 * How long past its `ttlMs` a row may still be served while reloading it fails (the database is
 * down): clients keep getting client_credentials tokens through an outage of up to this long.
 * No change can be missed meanwhile: a change needs the database, and evicts the row everywhere.
 */
export const STALE_IF_ERROR_MS = 15 * 60_000

/**
 * Rows by id (clients, users), so hot paths do not read the database per request. Entries are
 * fresh for `ttlMs` (unknown ids a shorter while, so a flood of made-up ids costs one read each
 * per window), at most 10,000 of them, the least recently used going first; any instance's
 * change evicts them everywhere through a store channel (services.ts subscribes: `clients`,
 * `users`). When reloading an expired row throws, the row is served for up to
 * {@link STALE_IF_ERROR_MS} more (an unknown id is not); after that, or for an evicted row, the
 * error is thrown. Kept in the one {@link TtlCache}.
 */
export class LoadingCache<T> {
  private readonly entries: TtlCache<string, { value: T | null; freshUntilMs: number }>
  /** Bumped by every eviction: a load that was under way meanwhile may have read the old row. */
  private evictions = 0

  constructor(private readonly load: (id: string) => Promise<T | null>, private readonly now: () => number, private readonly ttlMs = 60_000) {
    this.entries = new TtlCache({ max: MAX_ENTRIES, now })
  }

  /** The row, or null when there is none. */
  async get(id: string): Promise<T | null> {
    const hit = this.entries.get(id)
    if (hit && hit.freshUntilMs > this.now()) return hit.value
    const evictionsBefore = this.evictions
    let value: T | null
    try {
      value = await this.load(id)
    } catch (err) {
      // Not a row evicted meanwhile (entries.get would no longer be `hit`): that one changed.
      if (hit?.value && this.entries.get(id) === hit) return hit.value
      throw err
    }
    if (evictionsBefore !== this.evictions) return value
    if (value) this.entries.set(id, { value, freshUntilMs: this.now() + this.ttlMs }, this.ttlMs + STALE_IF_ERROR_MS)
    else {
      const ttlMs = Math.min(this.ttlMs, 5_000)
      this.entries.set(id, { value, freshUntilMs: this.now() + ttlMs }, ttlMs)
    }
    return value
  }

  /** The row if it is cached and fresh (null: cached as absent), undefined when it is not; never loads. */
  peek(id: string): T | null | undefined {
    const hit = this.entries.get(id)
    return hit && hit.freshUntilMs > this.now() ? hit.value : undefined
  }

  /** Drops a row; a load under way now is not cached (it may have read the row before the change). */
  evict(id: string): void {
    this.evictions++
    this.entries.delete(id)
  }
}
