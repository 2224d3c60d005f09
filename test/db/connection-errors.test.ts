import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import t from 'tap'
import { databaseUnavailable } from '../../src/db/connection-errors.js'
import { openDatabase } from '../../src/db/database.js'
import { PrismaClient } from '../../src/generated/prisma/client.js'
import { createPostgresDatabase } from '../helpers/backends.js'
import { freePort } from '../helpers/server.js'

// Issue 14, deliverable 3: errors that mean "the database cannot be used right now" become a
// 503 temporarily_unavailable at the one error handler; every other error stays what it was.

const caught = async (fn: () => Promise<unknown>): Promise<unknown> => fn().then(() => { throw new Error('no error') }, (err: unknown) => err)

t.test('issue 14: a database that cannot be reached is a 503 temporarily_unavailable, from Prisma and from node-postgres', async t => {
  const url = `postgresql://postgres@127.0.0.1:${await freePort()}/none`
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) })
  t.teardown(() => prisma.$disconnect())
  for (const [name, err] of [
    ['Prisma query', await caught(() => prisma.client.findMany())],
    ['Prisma raw query', await caught(() => prisma.$queryRaw`SELECT 1`)],
    ['node-postgres connect', await caught(() => new pg.Client({ connectionString: url }).connect())],
  ] as const) {
    const mapped = databaseUnavailable(err)
    t.equal(mapped?.statusCode, 503, name)
    t.equal(mapped?.error, 'temporarily_unavailable', name)
  }
})

t.test('issue 14: other errors are left alone (a constraint violation, a plain error, not an object)', { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL' }, async t => {
  const db = await openDatabase({ databaseUrl: await createPostgresDatabase(t, { migrate: true }), dataDir: '' })
  t.teardown(() => db.close())
  const row = { clientId: 'dup', generation: 'g', tokenEndpointAuthMethod: 'none', grantTypes: [], scopes: [], audience: [] }
  await db.prisma.client.create({ data: row })
  for (const [name, err] of [
    ['unique violation', await caught(() => db.prisma.client.create({ data: row }))],
    ['syntax error', await caught(() => db.prisma.$queryRawUnsafe('SELEC 1'))],
    ['plain error', new Error('boom')],
    ['string', 'ECONNREFUSED'],
  ] as const) t.equal(databaseUnavailable(err), undefined, name)
})
