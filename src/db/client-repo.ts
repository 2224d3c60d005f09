import type { Client } from '../clients/client.js'
import type { PrismaClient } from '../generated/prisma/client.js'
import { insertUnlessTaken } from './unique-violation.js'

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

export function createClientRepo(prisma: PrismaClient): ClientRepo {
  const toClient = (r: Awaited<ReturnType<typeof prisma.client.findFirstOrThrow>>): Client => r as unknown as Client
  return {
    find: async clientId => {
      const r = await prisma.client.findUnique({ where: { clientId } })
      return r ? toClient(r) : null
    },
    list: async () => (await prisma.client.findMany({ orderBy: { createdAt: 'asc' } })).map(toClient),
    create: client => insertUnlessTaken(() => prisma.client.create({ data: client })),
    upsert: async client => {
      await prisma.client.upsert({ where: { clientId: client.clientId }, create: client, update: client })
    },
    update: async client => (await prisma.client.updateMany({ where: { clientId: client.clientId }, data: client })).count === 1,
    remove: async clientId => (await prisma.client.deleteMany({ where: { clientId } })).count === 1,
    maxAccessTokenTtlSec: async () => (await prisma.client.aggregate({ _max: { accessTokenTtlSec: true } }))._max.accessTokenTtlSec,
  }
}
