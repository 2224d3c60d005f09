/**
 * What Sigil keeps outside its database: cross-instance notifications now; refresh families,
 * denylists and rate-limit counters join here. Two adapters implement it, Redis (many
 * instances) and in-process memory (the single-instance embedded default), and both pass
 * test/store/store-contract.test.ts.
 */
export interface Store {
  readonly kind: 'redis' | 'memory'
  /**
   * Delivers `message` to every subscriber of `channel` in every instance, this one included.
   * Best effort: a message lost while disconnected is covered by each subscriber's periodic reload.
   */
  publish(channel: string, message: string): Promise<void>
  /** Registers a handler; resolves once subscribed. Handlers must not throw. */
  subscribe(channel: string, handler: (message: string) => void): Promise<void>
  /** Throws when the store is unusable (for /readyz). */
  ping(): Promise<void>
  close(): Promise<void>
}

/** Channels published on the store. */
export const CHANNELS = {
  /** A signing key changed state: reload the key ring. */
  keys: 'keys',
  /** A client changed: payload is its client_id. */
  clients: 'clients',
} as const
