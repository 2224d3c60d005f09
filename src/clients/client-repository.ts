import type { Client } from './client.js'

export type { Client } from './client.js'

export type NewClient = Omit<Client, 'createdAt'>

/** Storage of registered clients. */
export interface ClientRepo {
  find(clientId: string): Promise<Client | null>
  list(): Promise<Client[]>
  /** Returns false, storing nothing, when the client_id is taken. */
  create(client: NewClient): Promise<boolean>
  /** Creates or replaces (the caller decides the generation: see client-registry). */
  upsert(client: NewClient): Promise<void>
  /** Replaces an existing client; false, storing nothing, when there is no such client (deleted meanwhile). */
  update(client: NewClient): Promise<boolean>
  /** Returns false when there was no such client. */
  remove(clientId: string): Promise<boolean>
  /** The longest access_token_ttl any client has, or null when none sets one. */
  maxAccessTokenTtlSec(): Promise<number | null>
}
