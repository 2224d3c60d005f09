import { createHash, randomUUID } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The least a migration needs of a driver: pg.Client and PGlite both fit. */
export interface SqlConnection {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>
  /** Runs a script of several statements. */
  exec(text: string): Promise<unknown>
}

export interface Migration { name: string; sql: string; checksum: string }

/** Prisma's own advisory lock id, so `prisma migrate deploy` and we exclude each other. */
const PRISMA_LOCK_ID = 72707369

const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url))

/** Reads prisma/migrations/<name>/migration.sql in name order. */
export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter(d => d.isDirectory()).map(d => d.name).sort()
  return Promise.all(names.map(async name => {
    const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8')
    return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') }
  }))
}

/**
 * Applies every migration not yet recorded, each in its own transaction, under Prisma's
 * advisory lock, recording it in `_prisma_migrations` exactly as Prisma does, so the two
 * stay interchangeable. Returns the names applied. Throws if an applied migration's file
 * changed since, or a previous attempt failed half-way (as Prisma refuses to go on).
 */
export async function applyMigrations(db: SqlConnection, migrations: Migration[]): Promise<string[]> {
  await db.query('SELECT pg_advisory_lock($1)', [PRISMA_LOCK_ID])
  try {
    await db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`)
    const { rows } = await db.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL')
    const done = new Map(rows.map(r => [r.migration_name, r]))
    const applied: string[] = []
    for (const m of migrations) {
      const previous = done.get(m.name)
      if (previous && previous.finished_at === null) {
        throw new Error(`migration ${m.name} failed earlier; resolve it by hand before migrating again`)
      }
      if (previous) {
        if (previous.checksum !== m.checksum) throw new Error(`migration ${m.name} was changed after it was applied`)
        continue
      }
      await applyOne(db, m)
      applied.push(m.name)
    }
    return applied
  } finally {
    await db.query('SELECT pg_advisory_unlock($1)', [PRISMA_LOCK_ID])
  }
}

async function applyOne(db: SqlConnection, m: Migration): Promise<void> {
  await db.exec('BEGIN')
  try {
    await db.exec(m.sql)
    await db.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), now(), 1)`, [randomUUID(), m.checksum, m.name])
    await db.exec('COMMIT')
  } catch (err) {
    await db.exec('ROLLBACK')
    throw err
  }
}
