import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import { TooManyRequests } from '../errors.js'
import type { Services } from '../services.js'
import { redisConnectionOf } from '../store/redis/redis-store.js'

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
    ...(redis ? { redis: redis.client, nameSpace: `${redis.prefix}request-cap:` } : {}),
    // A volume cap only sheds load: with Redis unreachable it lets requests on, and the
    // failure limits, which fail closed, still guard every credential check.
    skipOnError: true,
    errorResponseBuilder: (_req, ctx) =>
      new TooManyRequests(Math.max(1, Math.ceil(ctx.ttl / 1000)), `RATE_LIMIT_IP: more than ${ctx.max} requests this minute`),
  })
}
