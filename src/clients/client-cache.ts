import type { Client } from './client.js'

const MAX_ENTRIES = 10_000

/**
 * Clients by id, so the token endpoint does not read the database per request. Entries live
 * `ttlMs` (unknown ids a shorter while, so a flood of made-up ids costs one read each per
 * window); any instance's change evicts them everywhere through the store's `clients` channel.
 */
export class ClientCache {
  private entries = new Map<string, { client: Client | null; expiresAtMs: number }>()
  /** Bumped by every eviction: a load that was under way meanwhile may have read the old row. */
  private evictions = 0

  constructor(private readonly load: (clientId: string) => Promise<Client | null>, private readonly now: () => number, private readonly ttlMs = 60_000) {}

  /** The client, or null when there is no such client. */
  async get(clientId: string): Promise<Client | null> {
    const hit = this.entries.get(clientId)
    if (hit && hit.expiresAtMs > this.now()) return hit.client
    const evictionsBefore = this.evictions
    const client = await this.load(clientId)
    if (evictionsBefore !== this.evictions) return client
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear()
    this.entries.set(clientId, { client, expiresAtMs: this.now() + (client ? this.ttlMs : Math.min(this.ttlMs, 5_000)) })
    return client
  }

  /** Drops a client; a load under way now is not cached (it may have read the row before the change). */
  evict(clientId: string): void {
    this.evictions++
    this.entries.delete(clientId)
  }
}
