import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { Redis } from 'ioredis'
import tap from 'tap'
import { migratePostgres, openDatabase, openPGlite, type Database } from '../../src/db/database.js'
import { applyMigrations, loadMigrations } from '../../src/db/migrate.js'
import { createMemoryStore } from '../../src/store/memory/memory-store.js'
import type { Store } from '../../src/store/ports.js'
import { createRedisStore } from '../../src/store/redis/redis-store.js'
import { sleep } from './clock.js'

export interface Backend { name: string; db: 'pglite' | 'postgresql'; store: 'memory' | 'redis' }

interface Teardown { teardown(fn: () => unknown): void }

/**
 * The embedded default always; PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set.
 * Under CI=true their absence is an error, never a silent skip.
 */
export function backends(): Backend[] {
  const list: Backend[] = [{ name: 'embedded (PGlite + memory)', db: 'pglite', store: 'memory' }]
  if (process.env.DATABASE_URL && process.env.REDIS_URL) {
    list.push({ name: 'PostgreSQL + Redis', db: 'postgresql', store: 'redis' })
  } else if (process.env.CI === 'true') {
    throw new Error('CI=true but DATABASE_URL or REDIS_URL is not set: the PostgreSQL and Redis suites must run')
  }
  return list
}

/** The store adapters a contract test runs on: memory always, Redis when REDIS_URL is set (required under CI). */
export function storeKinds(): Array<Store['kind']> {
  if (process.env.REDIS_URL) return ['memory', 'redis']
  if (process.env.CI === 'true') throw new Error('CI=true but REDIS_URL is not set: the Redis adapter must be tested')
  return ['memory']
}

/** The servers' URLs, or an error under CI when missing; undefined (skip) elsewhere. */
export function serverUrls(): { databaseUrl: string; redisUrl: string } | undefined {
  const databaseUrl = process.env.DATABASE_URL
  const redisUrl = process.env.REDIS_URL
  if (databaseUrl && redisUrl) return { databaseUrl, redisUrl }
  if (process.env.CI === 'true') throw new Error('CI=true but DATABASE_URL or REDIS_URL is not set')
  return undefined
}

/** PGlite databases of this process's finished tests, emptied, for the next ones; closed when its tests end. */
const idlePGlites: Database[] = []
let closingIdlePGlites = false

export async function openTestDatabase(t: Teardown, kind: Backend['db']): Promise<Database> {
  if (kind === 'pglite') return borrowPGlite(t)
  const url = await createPostgresDatabase(t, { migrate: true })
  const db = await openDatabase({ databaseUrl: url, dataDir: '', migrate: true })
  t.teardown(() => db.close())
  return db
}

/**
 * A migrated, empty PGlite database for one test. Starting one costs over a second (a clone of
 * the template), so each is kept for the process's next test once this one is done, its tables
 * emptied (issue 15). The test gets a view of it whose `close()` only ends the view: `ping()`
 * fails from then on (what /readyz sees of a closed database), the pool keeps the database.
 */
async function borrowPGlite(t: Teardown): Promise<Database> {
  if (!closingIdlePGlites) {
    closingIdlePGlites = true
    tap.teardown(async () => { for (const idle of idlePGlites.splice(0)) await idle.close() })
  }
  const db = idlePGlites.pop() ?? await openPGlite(await PGlite.create({ loadDataDir: await pgliteTemplate() }))
  let closed = false
  t.teardown(async () => {
    const tables = await db.prisma.$queryRawUnsafe<Array<{ name: string }>>(
      `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`)
    if (tables.length > 0) await db.prisma.$executeRawUnsafe(`TRUNCATE ${tables.map(r => r.name).join(', ')} RESTART IDENTITY CASCADE`)
    idlePGlites.push(db)
  })
  return {
    prisma: db.prisma,
    ping: async () => {
      if (closed) throw new Error('database closed')
      await db.ping()
    },
    close: async () => { closed = true },
  }
}

/**
 * A fresh PostgreSQL database for one test, dropped afterwards: empty, or with `migrate` a copy
 * of a migrated template (migrating every test's database cost more than copying). Returns its URL.
 */
export async function createPostgresDatabase(t: Teardown, opts: { migrate?: boolean } = {}): Promise<string> {
  const base = process.env.DATABASE_URL!
  const name = `sigil_t_${randomBytes(6).toString('hex')}`
  await adminQuery(base, `CREATE DATABASE ${name}${opts.migrate ? ` TEMPLATE ${await postgresTemplate(base)}` : ''}`)
  t.teardown(() => adminQuery(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  return databaseUrl(base, name)
}

function databaseUrl(base: string, name: string): string {
  const url = new URL(base)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * The name of a migrated database that no one connects to, made once per set of migrations and
 * shared by every test process: built under a name of its own, then renamed (of racing
 * builders, the first rename wins and the others drop theirs).
 */
async function postgresTemplate(base: string): Promise<string> {
  const migrations = await loadMigrations()
  const name = `sigil_template_${createHash('sha256').update(migrations.map(m => m.checksum).join()).digest('hex').slice(0, 16)}`
  const exists = async () => (await adminQuery(base, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length > 0
  if (await exists()) return name
  const building = `${name}_${randomBytes(4).toString('hex')}`
  await adminQuery(base, `CREATE DATABASE ${building}`)
  try {
    await migratePostgres(databaseUrl(base, building))
    // The migration's connection may still be closing on the server: a rename needs none.
    for (let attempt = 0; ; attempt++) {
      try {
        await adminQuery(base, `ALTER DATABASE ${building} RENAME TO ${name}`)
        break
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test(String(err))) throw err
        await sleep(100)
      }
    }
  } catch (err) {
    await adminQuery(base, `DROP DATABASE IF EXISTS ${building} WITH (FORCE)`)
    if (!await exists()) throw err
  }
  return name
}

async function adminQuery(url: string, sql: string, params: unknown[] = []): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try { return (await client.query(sql, params)).rows } finally { await client.end() }
}

/**
 * A migrated PGlite data directory, made once per set of migrations and shared by every test
 * process through a file in the temp dir (a fresh PGlite runs initdb: 5-13 s; a clone ~1.5 s).
 */
async function pgliteTemplate(): Promise<Blob> {
  const migrations = await loadMigrations()
  const tag = migrations.map(m => m.checksum.slice(0, 8)).join('-')
  const file = join(tmpdir(), `sigil-pglite-template-${tag}.tar.gz`)
  if (!existsSync(file)) {
    const db = await PGlite.create()
    await applyMigrations(db, migrations)
    const dump = await db.dumpDataDir('gzip')
    await db.close()
    const tmp = `${file}.${process.pid}.tmp`
    await writeFile(tmp, Buffer.from(await dump.arrayBuffer()))
    await rename(tmp, file)
  }
  return new Blob([await readFile(file)])
}

export async function openTestStore(t: Teardown, kind: Backend['store'], prefix = testPrefix()): Promise<Store> {
  if (kind === 'memory') {
    const store = createMemoryStore()
    t.teardown(() => store.close())
    return store
  }
  const store = createRedisStore({ url: process.env.REDIS_URL!, prefix })
  t.teardown(async () => {
    await store.close()
    await deleteRedisPrefix(prefix)
  })
  return store
}

export const testPrefix = () => `sigil-test:${randomBytes(4).toString('hex')}:`

async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL!)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}
