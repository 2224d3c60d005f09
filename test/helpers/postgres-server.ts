import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { freePort } from './server.js'

const run = promisify(execFile)
const PGBIN = '/usr/lib/postgresql/15/bin'

/** A private PostgreSQL cluster of one test, on its own loopback port: stop it without touching the shared one. */
export interface PostgresServer {
  /** `postgresql://postgres@127.0.0.1:<port>/postgres`. */
  url: string
  port: number
  /** `pg_ctl stop -m fast`: open connections are ended, new ones refused. */
  stop(): Promise<void>
  /** `pg_ctl start -w`: resolves once it accepts connections. */
  start(): Promise<void>
  /** CREATE DATABASE `name`; returns its URL. */
  createDatabase(name: string): Promise<string>
}

/** Why a private PostgreSQL cannot be started here (tap's `skip`), or false. Under CI=true a missing PostgreSQL is an error. */
export function postgresServerSkip(): string | false {
  if (existsSync(join(PGBIN, 'initdb'))) return false
  if (process.env.CI === 'true') throw new Error(`CI=true but ${PGBIN}/initdb is missing (.ci/run installs postgresql-15)`)
  return `needs PostgreSQL 15 binaries in ${PGBIN}`
}

/**
 * initdb into a fresh temp dir and starts PostgreSQL on a free loopback port (fsync off), as
 * the `postgres` OS user when running as root (initdb refuses root, see .ci/run). Stopped and
 * removed at teardown.
 */
export async function startPostgresServer(t: { teardown(fn: () => unknown): void }): Promise<PostgresServer> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-pg-'))
  const data = join(dir, 'data')
  const asRoot = process.getuid?.() === 0
  const pgUser = asRoot ? await run('id', ['-u', 'postgres']).then(r => Number(r.stdout.trim())) : undefined
  if (pgUser !== undefined) {
    await chown(dir, pgUser, pgUser)
    await chmod(dir, 0o700)
  }
  const as = (cmd: string, args: string[]) => asRoot
    ? run('runuser', ['-u', 'postgres', '--', join(PGBIN, cmd), ...args])
    : run(join(PGBIN, cmd), args)
  await as('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'])
  const port = await freePort()
  const options = `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=100`
  const start = async () => { await as('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-o', options, 'start']) }
  const stop = async () => { await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']) }
  await start()
  t.teardown(async () => {
    await stop().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  })
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`
  return {
    url, port, start, stop,
    createDatabase: async name => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try { await client.query(`CREATE DATABASE ${name}`) } finally { await client.end() }
      return `postgresql://postgres@127.0.0.1:${port}/${name}`
    },
  }
}
