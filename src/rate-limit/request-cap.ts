import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { TooManyRequests } from '../errors.js'
import type { AttemptCounters } from '../store/ports.js'

export interface RequestCapDeps {
  store: Pick<AttemptCounters, 'countRequest'>
  clock: Clock
  config: Pick<Config, 'rateLimitIp'>
}

const WINDOW_MS = 60_000

/** What @fastify/rate-limit hands a store and wants back (its `store` option's contract). */
type Done = (err: Error | null, result?: { current: number; ttl: number }) => void
interface RouteLimitOptions { routeInfo?: { method?: unknown; url?: string } }

/**
 * @fastify/rate-limit's store interface over {@link AttemptCounters.countRequest}: the counts
 * live wherever the Sigil store keeps them (Redis: shared by every instance, under its prefix,
 * within its operation bound), never in a client of the library's own.
 */
export function requestCapStore(deps: Pick<RequestCapDeps, 'store' | 'clock'>) {
  return class RequestCapStore {
    constructor(_options?: unknown, readonly keyPrefix = '') {}

    incr(key: string, done: Done, timeWindowMs: number): void {
      deps.store.countRequest(this.keyPrefix + key, deps.clock.now(), timeWindowMs)
        .then(r => done(null, { current: r.count, ttl: r.resetInMs }), (err: Error) => done(err))
    }

    /** A route with a limit of its own counts apart (the library's RedisStore keys it alike). */
    child(route: object): RequestCapStore {
      // Typed as the route's options, but at run time the route's merged limit options.
      const info = (route as RouteLimitOptions).routeInfo
      return new RequestCapStore(undefined, `${this.keyPrefix}${String(info?.method)}${info?.url ?? ''}-`)
    }
  }
}

/**
 * RATE_LIMIT_IP as @fastify/rate-limit options: every request to the routes they cover counts
 * per client IP (IPv6 by /64, the library's default key) per minute, in the Sigil store (so
 * with Redis the cap holds across instances); past the limit, {@link TooManyRequests} with
 * Retry-After. Null when RATE_LIMIT_IP is 0 (no cap).
 */
export function requestCapOptions(deps: RequestCapDeps) {
  if (deps.config.rateLimitIp === 0) return null
  return {
    max: deps.config.rateLimitIp,
    timeWindow: WINDOW_MS,
    store: requestCapStore(deps),
    // A volume cap only sheds load: with Redis unreachable it lets requests on, and the
    // failure limits, which fail closed, still guard every credential check.
    skipOnError: true,
    errorResponseBuilder: (_req: unknown, ctx: { ttl: number; max: number }) =>
      new TooManyRequests(Math.max(1, Math.ceil(ctx.ttl / 1000)), `RATE_LIMIT_IP: more than ${ctx.max} requests this minute`),
  }
}
