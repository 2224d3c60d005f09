import { Redis } from 'ioredis'

/** Scans REDIS_URL for keys matching `pattern`: how many, and which have no TTL. */
export async function keysWithoutTtl(pattern: string): Promise<{ seen: number; immortal: string[] }> {
  const redis = new Redis(process.env.REDIS_URL!)
  try {
    let cursor = '0'
    let seen = 0
    const immortal: string[] = []
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      for (const key of keys) {
        seen++
        // -1: no expiry; -2: gone meanwhile, which is fine.
        if ((await redis.pttl(key)) === -1) immortal.push(key)
      }
      cursor = next
    } while (cursor !== '0')
    return { seen, immortal }
  } finally {
    redis.disconnect()
  }
}
