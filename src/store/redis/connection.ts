import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'

export type RedisClient = Redis | Cluster

/**
 * Connects from a URL: `redis://` / `rediss://` (standalone), `redis-sentinel://[pw@]h1:p1,h2:p2/master[/db]`,
 * `redis-cluster://[pw@]h1:p1,h2:p2`. A command gives up after one reconnection attempt
 * (`maxRetriesPerRequest: 1`), so callers fail closed with 503 instead of hanging. Commands
 * issued in the same tick go out in one write (`enableAutoPipelining`, in order; Pub/Sub
 * commands excluded by ioredis): under load, many requests' commands share a socket write.
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
  const u = new URL(url.replace(/^redis-(sentinel|cluster):/, 'http:'))
  const password = u.password ? decodeURIComponent(u.password) : undefined
  const username = u.username ? decodeURIComponent(u.username) : undefined
  const hosts = u.host.split(',').map(h => {
    const [host, port] = h.split(':')
    return { host: host ?? 'localhost', port: Number(port ?? 6379) }
  })
  if (url.startsWith('redis-sentinel:')) {
    const [name, db] = u.pathname.split('/').filter(Boolean)
    return new Redis({ ...base, sentinels: hosts, name: name ?? 'mymaster', db: Number(db ?? 0), password, username })
  }
  if (url.startsWith('redis-cluster:')) {
    const options: ClusterOptions = { redisOptions: { ...base, password, username }, enableOfflineQueue: true, enableAutoPipelining: true }
    return new Cluster(hosts, options)
  }
  return new Redis(url, base)
}
