import type { Client } from './client.js'

const MAX_ENTRIES = 10_000

/**
 * Clients by id, so the token endpoint does not read the database per request. Entries live
 * `ttlMs` (unknown ids a shorter while, so a flood of made-up ids costs one read each per
 * window); any instance's change evicts them everywhere through the store's `clients` channel.
 */
export class ClientCache {
  private entries = new Map<string, { client: Client | null; expiresAtMs: number }>()

  constructor(private readonly load: (clientId: string) => Promise<Client | null>, private readonly now: () => number, private readonly ttlMs = 60_000) {}

  /** The client, or null when there is no such client. */
  async get(clientId: string): Promise<Client | null> {
    const hit = this.entries.get(clientId)
    if (hit && hit.expiresAtMs > this.now()) return hit.client
    const client = await this.load(clientId)
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear()
    this.entries.set(clientId, { client, expiresAtMs: this.now() + (client ? this.ttlMs : Math.min(this.ttlMs, 5_000)) })
    return client
  }

  evict(clientId: string): void {
    this.entries.delete(clientId)
  }
}
