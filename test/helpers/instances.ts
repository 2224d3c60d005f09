import { buildApp } from '../../src/app.js'
import type { Clock } from '../../src/clock.js'
import type { Config } from '../../src/config.js'
import { openDatabase, type Database } from '../../src/db/database.js'
import { createLogger, type Logger } from '../../src/log.js'
import { createServices } from '../../src/services.js'
import type { Store } from '../../src/store/ports.js'
import { ADMIN, type TestApp } from './app.js'
import { createPostgresDatabase, openTestDatabase, openTestStore, testPrefix, type Backend } from './backends.js'
import { fixedClock } from './clock.js'
import { testConfig } from './config.js'

interface TestLike { teardown(fn: () => unknown): void }

export interface InstanceOptions {
  config?: Partial<Config>
  clock?: Clock
  /** One clock per instance (clock skew between hosts); overrides `clock`. */
  clocks?: Clock[]
  /** Default: silent. */
  log?: Logger
}

/**
 * `count` started instances of the service on one backend, sharing one database and one store
 * namespace as instances behind a load balancer do: for the embedded backend one PGlite and one
 * in-process store object; for PostgreSQL + Redis, each its own connections to one database
 * and one Redis key prefix. Closed at teardown.
 */
export async function buildTestApps(t: TestLike, backend: Backend, count: number, opts: InstanceOptions = {}): Promise<TestApp[]> {
  const clock = (opts.clock ?? fixedClock()) as TestApp['clock']
  const config = testConfig({ adminClient: ADMIN, ...opts.config })
  const openDb = await sharedDatabase(t, backend)
  const openStore = await sharedStore(t, backend)
  const instances: TestApp[] = []
  t.teardown(async () => {
    for (const { app } of instances) await app.close()
    for (const { services } of instances) await services.close()
  })
  for (let i = 0; i < count; i++) {
    const own = (opts.clocks?.[i] ?? clock) as TestApp['clock']
    const services = await createServices(config, {
      clock: own, log: opts.log ?? createLogger('silent'), db: await openDb(), store: await openStore(), keyReloadMs: 60_000,
    })
    await services.start()
    instances.push({ app: await buildApp(services), services, clock: own })
  }
  return instances
}

async function sharedDatabase(t: TestLike, backend: Backend): Promise<() => Promise<Database>> {
  if (backend.db === 'pglite') {
    const db = await openTestDatabase(t, 'pglite')
    return async () => db
  }
  const url = await createPostgresDatabase(t, { migrate: true })
  return async () => {
    const db = await openDatabase({ databaseUrl: url, dataDir: '' })
    t.teardown(() => db.close())
    return db
  }
}

async function sharedStore(t: TestLike, backend: Backend): Promise<() => Promise<Store>> {
  if (backend.store === 'memory') {
    const store = await openTestStore(t, 'memory')
    return async () => store
  }
  const prefix = testPrefix()
  return () => openTestStore(t, 'redis', prefix)
}
