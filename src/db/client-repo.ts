import type { Client, ClientRepo } from '../clients/client-repository.js'
import type { PrismaClient } from '../generated/prisma/client.js'
import { insertUnlessTaken } from './unique-violation.js'

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
