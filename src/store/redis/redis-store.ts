import type { Store } from '../ports.js'
import { connectRedis, type RedisClient } from './connection.js'

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
  return {
    kind: 'redis',
    publish: async (channel, message) => { await redis.publish(prefix + channel, message) },
    subscribe: async (channel, handler) => {
      const full = prefix + channel
      const list = handlers.get(full) ?? []
      if (list.length === 0) await subscriber.subscribe(full)
      handlers.set(full, [...list, handler])
    },
    ping: async () => { await redis.ping() },
    close: async () => { await Promise.allSettled([redis.quit(), subscriber.quit()]) },
  }
}
