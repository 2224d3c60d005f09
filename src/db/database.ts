import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { PrismaClient } from '../generated/prisma/client.js'
import { ensurePrivateDir, makeTreePrivate } from '../private-files.js'
import { lockDataDir } from './data-dir-lock.js'
import { applyMigrations, loadMigrations, type SqlConnection } from './migrate.js'

/**
 * How long a request waits for a new PostgreSQL connection. node-postgres waits forever by
 * default: a database host that drops packets would hold every request; with the bound they
 * fail and answer 503 (db/connection-errors.ts) while it is away.
 */
const DATABASE_CONNECT_TIMEOUT_MS = 5_000

export interface Database {
  readonly prisma: PrismaClient
  /** Cheap liveness probe for /readyz; throws when the database is unusable. */
  ping(): Promise<void>
  close(): Promise<void>
}

/**
 * Opens PostgreSQL through adapter-pg, or PGlite (embedded) in `dataDir` when there is no
 * URL. The embedded database is migrated on open; PostgreSQL only when `migrate` is set
 * (operators run `sigil migrate`; tests and single-host setups may migrate at start).
 * The embedded database is this process's alone until closed (throws DataDirInUse, see
 * data-dir-lock.ts) and its files are private: `dataDir` 0700, its files 0600.
 */
export async function openDatabase(opts: { databaseUrl?: string | undefined; dataDir: string; migrate?: boolean }): Promise<Database> {
  if (opts.databaseUrl !== undefined) {
    if (opts.migrate) await migratePostgres(opts.databaseUrl)
    else await assertMigrated(opts.databaseUrl)
    const prisma = new PrismaClient({
      adapter: new PrismaPg({ connectionString: opts.databaseUrl, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS }),
    })
    return fromPrisma(prisma, async () => {})
  }
  await ensurePrivateDir(opts.dataDir)
  const lock = lockDataDir(opts.dataDir)
  try {
    const pglite = await PGlite.create(opts.dataDir)
    // PGlite unpacks a fresh database with mode 0666 files whatever the umask (PostgreSQL itself
    // then creates 0600 ones); this also tightens a data directory made by an older version.
    makeTreePrivate(opts.dataDir)
    const db = await openPGlite(pglite)
    return { ...db, close: () => db.close().finally(lock.release) }
  } catch (err) {
    lock.release()
    throw err
  }
}

/** Wraps an open PGlite (a directory, or a clone of a template in tests) and migrates it. */
export async function openPGlite(db: PGlite): Promise<Database> {
  await applyMigrations(db, await loadMigrations())
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) })
  return fromPrisma(prisma, async () => { if (!db.closed) await db.close() })
}

/** Applies pending migrations to a PostgreSQL database; returns the names applied. */
export async function migratePostgres(databaseUrl: string): Promise<string[]> {
  return withClient(databaseUrl, async conn => applyMigrations(conn, await loadMigrations()))
}

async function withClient<T>(databaseUrl: string, fn: (conn: SqlConnection) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return await fn({
      query: async <R>(text: string, params?: unknown[]) => ({ rows: (await client.query(text, params)).rows as R[] }),
      exec: text => client.query(text),
    })
  } finally {
    await client.end()
  }
}

/** Refuses to run on a PostgreSQL database with pending migrations, with the fix in the message. */
async function assertMigrated(databaseUrl: string): Promise<void> {
  const pending = await withClient(databaseUrl, async conn => {
    const applied = await conn.query<{ migration_name: string }>(
      `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    ).then(r => new Set(r.rows.map(x => x.migration_name)), () => new Set<string>())
    return (await loadMigrations()).filter(m => !applied.has(m.name)).map(m => m.name)
  })
  if (pending.length > 0) {
    throw new Error(`the database has ${pending.length} pending migration(s) (${pending.join(', ')}): run \`sigil migrate\` first`)
  }
}

function fromPrisma(prisma: PrismaClient, closeDriver: () => Promise<void>): Database {
  let closing: Promise<void> | undefined
  return {
    prisma,
    ping: async () => { await prisma.$queryRaw`SELECT 1` },
    close: () => (closing ??= prisma.$disconnect().then(closeDriver)),
  }
}
