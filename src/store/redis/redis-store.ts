import { OAuthError, TemporarilyUnavailable } from '../../errors.js'
import type { Store } from '../ports.js'
import { connectRedis, type RedisClient } from './connection.js'
import { createRedisAttemptCounters } from './redis-attempt-counters.js'
import { createRedisLoginStore } from './redis-login-store.js'
import { createRedisFamilyStore, generationMarkerKey } from './redis-family-store.js'

/** The command connection and key prefix behind each Redis store, for {@link redisConnectionOf}. */
const connections = new WeakMap<Store, { client: RedisClient; prefix: string }>()

/**
 * The Redis connection and key prefix of a store made by {@link createRedisStore}; undefined
 * for any other store. For tests that reach the keys behind the port (a data loss); Sigil's
 * own code, @fastify/rate-limit included (rate-limit/request-cap.ts), uses the port.
 */
export function redisConnectionOf(store: Store): { client: RedisClient; prefix: string } | undefined {
  return connections.get(store)
}

/** KEYS: marker. ARGV: expected ('' for none), next. Returns the marker held afterwards. */
const SWAP_MARKER = `
local held = redis.call('GET', KEYS[1])
if (held == false and ARGV[1] == '') or held == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return ARGV[2]
end
return held`

/**
 * Redis-backed store shared by every instance. `prefix` namespaces keys and channels
 * (hash-tagged where a multi-key script needs one slot).
 */
export function createRedisStore(opts: { url: string; prefix?: string }): Store {
  const prefix = opts.prefix ?? 'sigil:'
  const redis: RedisClient = connectRedis(opts.url)
  // A subscribed connection can run no other commands, so notifications get their own.
  const subscriber: RedisClient = connectRedis(opts.url)
  const handlers = new Map<string, Array<(message: string) => void>>()
  subscriber.on('message', (channel: string, message: string) => {
    for (const h of handlers.get(channel) ?? []) h(message)
  })
  // ioredis reports connection errors as events; without a listener they crash the process.
  redis.on('error', () => {})
  subscriber.on('error', () => {})
  redis.defineCommand('sigilSwapMarker', { numberOfKeys: 1, lua: SWAP_MARKER })
  const swapMarker = (redis as unknown as { sigilSwapMarker(key: string, expected: string, next: string): Promise<string | null> }).sigilSwapMarker
  // No expiry: the marker lives exactly as long as the rest of the store's data does.
  const markerKey = generationMarkerKey(prefix)
  const store: Store = {
    kind: 'redis',
    ...createRedisAttemptCounters(redis, prefix),
    ...createRedisFamilyStore(redis, prefix),
    ...createRedisLoginStore(redis, prefix),
    publish: async (channel, message) => { await redis.publish(prefix + channel, message) },
    subscribe: async (channel, handler) => {
      const full = prefix + channel
      const list = handlers.get(full) ?? []
      if (list.length === 0) await subscriber.subscribe(full)
      handlers.set(full, [...list, handler])
    },
    generationMarker: () => redis.get(markerKey),
    swapGenerationMarker: (expected, next) => swapMarker.call(redis, markerKey, expected ?? '', next),
    ping: async () => { await redis.ping() },
    close: async () => { await Promise.allSettled([redis.quit(), subscriber.quit()]) },
  }
  failClosed(store)
  connections.set(store, { client: redis, prefix })
  return store
}

/**
 * How long a store operation waits for Redis. ioredis fails a standalone or Sentinel command
 * after one reconnection attempt, but a Cluster with no reachable node (or refusing the
 * password) keeps commands queued until it is back: without this bound a request would hang.
 * Well above a Cluster failover (2-3.5 s with `cluster-node-timeout` 1000, during which ioredis
 * retries): a command given up on may still run once the cluster is back, so a refresh
 * answered 503 here may have rotated, and its retry then reads as reuse.
 */
export const STORE_OPERATION_TIMEOUT_MS = 8000

/** `work`, or a rejection once {@link STORE_OPERATION_TIMEOUT_MS} has passed without its answer. */
function withDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${STORE_OPERATION_TIMEOUT_MS} ms`)), STORE_OPERATION_TIMEOUT_MS)
    timer.unref()
  })
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}

/**
 * Turns every Redis failure of a store operation, and an operation not answered within
 * {@link STORE_OPERATION_TIMEOUT_MS}, into a 503 `temporarily_unavailable`: with Redis
 * unreachable Sigil refuses (never issues a token whose family was not stored) and recovers by
 * itself when Redis is back. `ping` gets the same bound but keeps its own errors; `close` none.
 */
function failClosed(store: Store): void {
  const methods = store as unknown as Record<string, unknown>
  for (const [name, fn] of Object.entries(methods)) {
    if (typeof fn !== 'function' || name === 'close') continue
    const call = (...args: unknown[]) => withDeadline((fn as (...a: unknown[]) => Promise<unknown>)(...args))
    methods[name] = name === 'ping' ? call : async (...args: unknown[]) => {
      try {
        return await call(...args)
      } catch (err) {
        if (err instanceof OAuthError) throw err
        throw new TemporarilyUnavailable(`redis ${name}: ${(err as Error).message}`)
      }
    }
  }
}
