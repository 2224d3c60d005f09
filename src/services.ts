import type { LoginSessionDeps } from './authorize/login-session.js'
import type { Clock } from './clock.js'
import type { Config } from './config.js'
import { LoadingCache } from './cache/loading-cache.js'
import { TtlCache } from './cache/ttl-cache.js'
import { ensureAdminClient, type ClientDeps } from './clients/client-registry.js'
import type { ClientRepo } from './clients/client-repository.js'
import { createClientRepo } from './db/client-repo.js'
import { openDatabase, type Database } from './db/database.js'
import { createSigningKeyRepo } from './db/signing-key-repo.js'
import { createStoreGenerationRepo } from './db/store-generation-repo.js'
import { createUserRepo } from './db/user-repo.js'
import { loadKek, type Kek } from './keys/kek.js'
import { KeyRing } from './keys/key-ring.js'
import type { RevocationDeps } from './revocation/token-revocation.js'
import { createStoreGeneration, type StoreGeneration } from './revocation/store-generation.js'
import { ensureKeys, keyMaintenancePeriodMs, runKeyMaintenance, type KeyRotationDeps } from './keys/key-rotation.js'
import type { Logger } from './log.js'
import { createPrometheusMetrics, type PrometheusMetrics } from './metrics/prometheus-metrics.js'
import { createMemoryStore } from './store/memory/memory-store.js'
import { CHANNELS, type Store } from './store/ports.js'
import { createRedisStore } from './store/redis/redis-store.js'
import { ensureSimplejwtClient } from './simplejwt/simplejwt-client.js'
import { maxAccessTokenTtlSec } from './tokens/token-lifetime.js'
import { createPasswordHasher } from './users/password.js'
import type { UserDeps } from './users/user-registry.js'

/** Everything the routes and the CLI work with, built once per process. */
export interface Services {
  config: Config
  clock: Clock
  log: Logger
  db: Database
  store: Store
  kek: Kek
  ring: KeyRing
  clients: ClientDeps & { repo: ClientRepo }
  keys: KeyRotationDeps
  /** Refresh families, revocation and introspection. */
  families: RevocationDeps
  /** Browser login sessions (the SSO cookie) of the authorization code flow. */
  logins: LoginSessionDeps
  /** The store's current generation, carried by every token issued (issue 11: a store that lost its data un-revokes nothing). */
  generation: StoreGeneration
  users: UserDeps
  /** This instance's metrics, in its own registry (served at /metrics). */
  metrics: PrometheusMetrics
  /** Set when the process starts draining (SIGTERM): /readyz answers 503 from then on. */
  lifecycle: { draining: boolean }
  /**
   * Brings the instance up: subscribes to key, client and user changes, makes missing keys and the
   * bootstrap admin client, loads the key ring, checks the store's generation, and starts the
   * periodic reload, key maintenance and generation check (a lost notification is made good
   * within one period).
   */
  start(): Promise<void>
  /** Stops timers and closes the store and the database. */
  close(): Promise<void>
}

export interface ServiceOptions {
  clock: Clock
  log: Logger
  /** Overrides for tests: a database or store opened elsewhere. */
  db?: Database
  store?: Store
  /** Apply pending migrations to PostgreSQL at start (PGlite is always migrated). */
  migrate?: boolean
  /** How often each instance reloads keys and runs key maintenance; 5 s by default. */
  keyReloadMs?: number
}

/** Opens storage and wires the domain; {@link Services.start} brings it to life. */
export async function createServices(config: Config, opts: ServiceOptions): Promise<Services> {
  const { clock, log } = opts
  // The database first: on the embedded defaults a process refused its lock writes nothing (no KEK file either).
  const db = opts.db ?? await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: opts.migrate })
  const kek = await loadKek(config, log).catch(async (err: unknown) => {
    if (!opts.db) await db.close()
    throw err
  })
  const store = opts.store ?? (config.redisUrl ? createRedisStore({ url: config.redisUrl }) : createMemoryStore())
  const clientRepo = createClientRepo(db.prisma)
  const cache = new LoadingCache(id => clientRepo.find(id), clock.now)
  const keyRepo = createSigningKeyRepo(db.prisma)
  const ring = new KeyRing(keyRepo, kek)
  // Read on every refresh and revocation, so kept for a while; a client change drops it (below).
  const maxTtl = new TtlCache<'all', Promise<number>>({ max: 1, now: clock.now })
  const maxTokenTtlSec = () => {
    let value = maxTtl.get('all')
    if (!value) {
      value = maxAccessTokenTtlSec(config, clientRepo)
      maxTtl.set('all', value, 10_000)
      value.catch(() => maxTtl.delete('all'))
    }
    return value
  }
  const metrics = createPrometheusMetrics()
  const generation = createStoreGeneration({
    store, repo: createStoreGenerationRepo(db.prisma), clock, log: log.child({ module: 'store-generation' }), metrics,
  })
  const families: RevocationDeps = {
    store, kek, clock, log: log.child({ module: 'families' }), config, ring, maxTokenTtlSec, metrics, generation,
    findClient: clientId => cache.get(clientId),
  }
  const logins: LoginSessionDeps = { store, clock, log: log.child({ module: 'login' }), config, families }
  const keys: KeyRotationDeps = {
    repo: keyRepo,
    kek,
    clock,
    log: log.child({ module: 'keys' }),
    config,
    maxTokenTtlSec,
    announce: () => store.publish(CHANNELS.keys, 'changed'),
  }
  const clients = {
    repo: clientRepo,
    cache,
    secretKey: kek.clientSecretKey,
    announce: (clientId: string) => store.publish(CHANNELS.clients, clientId),
  }
  // The dummy hash for unknown users is computed here, once, with the current parameters.
  const userRepo = createUserRepo(db.prisma)
  const users: UserDeps = {
    repo: userRepo,
    passwords: await createPasswordHasher(),
    // Read on every refresh and code redemption; a deletion on any instance drops it everywhere (below).
    cache: new LoadingCache(id => userRepo.find(id), clock.now),
    announce: userId => store.publish(CHANNELS.users, userId),
  }
  let timer: NodeJS.Timeout | undefined
  const services: Services = {
    config, clock, log, db, store, kek, ring, clients, keys, families, logins, generation, users, metrics, lifecycle: { draining: false },
    start: async () => {
      await store.subscribe(CHANNELS.keys, () => {
        ring.reload().catch(err => log.error({ err }, 'key reload failed'))
      })
      await store.subscribe(CHANNELS.clients, clientId => {
        cache.evict(clientId)
        maxTtl.delete('all')
      })
      await store.subscribe(CHANNELS.users, userId => users.cache.evict(userId))
      // A store that lost its data since the last start is noticed now, before anything is served.
      await generation.check()
      await ensureKeys(keys)
      if (config.adminClient) await ensureAdminClient(clients, config.adminClient)
      await ensureSimplejwtClient(clients, config)
      await ring.reload()
      timer = setInterval(() => void maintain(services), opts.keyReloadMs ?? keyMaintenancePeriodMs(config))
      timer.unref()
    },
    close: async () => {
      clearInterval(timer)
      await store.close()
      await db.close()
    },
  }
  return services
}

async function maintain(s: Services): Promise<void> {
  try {
    await runKeyMaintenance(s.keys)
    await s.ring.reload()
  } catch (err) {
    s.log.error({ err }, 'key maintenance failed')
  }
  // Every token check notices a missing marker at once; this also catches a stale one, and a
  // loss during a quiet period. While the store is down it fails like every store operation.
  await s.generation.check().catch(err => s.log.warn({ err }, 'store generation check failed'))
}
