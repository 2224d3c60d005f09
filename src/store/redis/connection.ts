import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { parseRedisUrl } from './redis-url.js'

export type RedisClient = Redis | Cluster

/**
 * Connects from a URL read by {@link parseRedisUrl}: `redis://` / `rediss://` (standalone),
 * `redis[s]-sentinel://[pw@]h1:p1,h2:p2/master[/db]` (ioredis sentinel mode), or
 * `redis[s]-cluster://[pw@]h1:p1,h2:p2` (ioredis Cluster, the hosts as seed nodes). A command
 * gives up after one reconnection attempt (`maxRetriesPerRequest: 1`), so callers fail closed
 * with 503 instead of hanging. Throws RedisUrlError for a URL config validation would refuse.
 * Outside a cluster, commands issued in the same tick go out in one write (`enableAutoPipelining`,
 * in order; Pub/Sub commands excluded by ioredis): under load, many requests' commands share a
 * socket write. A cluster keeps ioredis's per-command path, which its failover test was tuned on.
 */
export function connectRedis(url: string, extra: RedisOptions = {}): RedisClient {
  const base: RedisOptions = {
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    connectTimeout: 2000,
    retryStrategy: attempt => Math.min(attempt * 200, 2000),
    ...extra,
  }
  const target = parseRedisUrl(url)
  if (target.kind === 'standalone') return new Redis(target.url, base)
  const auth = {
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  }
  if (target.kind === 'sentinel') {
    return new Redis({
      ...base, ...auth, sentinels: [...target.sentinels], name: target.name, db: target.db,
      ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      sentinelRetryStrategy: attempt => Math.min(attempt * 200, 2000),
    })
  }
  const options: ClusterOptions = {
    redisOptions: { ...base, ...auth },
    enableOfflineQueue: true,
    clusterRetryStrategy: attempt => Math.min(attempt * 200, 2000),
    // A failover moves slots: ask again soon rather than failing the command at once.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
  }
  return new Cluster([...target.nodes], options)
}
