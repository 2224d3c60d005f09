import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import { TooManyRequests } from '../errors.js'
import type { Services } from '../services.js'
import type { RedisClient } from '../store/redis/connection.js'
import { redisConnectionOf, withDeadline } from '../store/redis/redis-store.js'

/**
 * RATE_LIMIT_IP: caps every request to the routes registered after it in `app`'s scope, per
 * client IP (IPv6 by /64) per minute, counted in Redis under the store's prefix when the store
 * is Redis (so the cap holds across instances), in process otherwise. 0: nothing is registered.
 */
export async function registerRequestCap(app: FastifyInstance, s: Services): Promise<void> {
  if (s.config.rateLimitIp === 0) return
  const redis = redisConnectionOf(s.store)
  await app.register(rateLimit, {
    max: s.config.rateLimitIp,
    timeWindow: 60_000,
    ...(redis ? { redis: boundedRateLimitClient(redis.client), nameSpace: `${redis.prefix}request-cap:` } : {}),
    // A volume cap only sheds load: with Redis unreachable it lets requests on, and the
    // failure limits, which fail closed, still guard every credential check.
    skipOnError: true,
    errorResponseBuilder: (_req, ctx) =>
      new TooManyRequests(Math.max(1, Math.ceil(ctx.ttl / 1000)), `RATE_LIMIT_IP: more than ${ctx.max} requests this minute`),
  })
}

/** The two scripts @fastify/rate-limit defines on the client it is given. */
const RATE_LIMIT_COMMANDS = new Set<string | symbol>(['rateLimit', 'rateLimitRead'])

/**
 * `client` as handed to @fastify/rate-limit: its scripts answer within the store's bound
 * ({@link withDeadline}), so with `skipOnError` a Cluster that queues commands while no node is
 * reachable lets requests on instead of holding them. Everything else is the client itself.
 */
export function boundedRateLimitClient(client: RedisClient): RedisClient {
  return new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target)
      if (typeof value !== 'function') return value
      if (!RATE_LIMIT_COMMANDS.has(prop)) return value.bind(target)
      return (...args: unknown[]) => {
        const done = args.pop() as (err: Error | null, result?: unknown) => void
        withDeadline((value as (...a: unknown[]) => Promise<unknown>).apply(target, args)).then(r => done(null, r), (err: Error) => done(err))
      }
    },
  })
}
