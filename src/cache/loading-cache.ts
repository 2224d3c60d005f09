import { TtlCache } from './ttl-cache.js'

const MAX_ENTRIES = 10_000

/**
 * Rows by id (clients, users), so hot paths do not read the database per request. Entries live
 * `ttlMs` (unknown ids a shorter while, so a flood of made-up ids costs one read each per
 * window), at most 10,000 of them, the least recently used going first; any instance's change
 * evicts them everywhere through a store channel (services.ts subscribes: `clients`, `users`).
 * Kept in the one {@link TtlCache}.
 */
export class LoadingCache<T> {
  private readonly entries: TtlCache<string, { value: T | null }>
  /** Bumped by every eviction: a load that was under way meanwhile may have read the old row. */
  private evictions = 0

  constructor(private readonly load: (id: string) => Promise<T | null>, now: () => number, private readonly ttlMs = 60_000) {
    this.entries = new TtlCache({ max: MAX_ENTRIES, now })
  }

  /** The row, or null when there is none. */
  async get(id: string): Promise<T | null> {
    const hit = this.entries.get(id)
    if (hit) return hit.value
    const evictionsBefore = this.evictions
    const value = await this.load(id)
    if (evictionsBefore !== this.evictions) return value
    this.entries.set(id, { value }, value ? this.ttlMs : Math.min(this.ttlMs, 5_000))
    return value
  }

  /** Drops a row; a load under way now is not cached (it may have read the row before the change). */
  evict(id: string): void {
    this.evictions++
    this.entries.delete(id)
  }
}
