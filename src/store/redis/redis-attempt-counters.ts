import type { AttemptCounters } from '../ports.js'
import type { RedisClient } from './connection.js'

/** INCR and (re)arm the TTL in one step: a counter can never be left without an expiry. */
const RECORD_FAILURE = `
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return n`

/** The back-off gate of AttemptCounters.beginAttempt: check and count in one step. */
const BEGIN_ATTEMPT = `
local now, free, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local held = redis.call('HMGET', KEYS[1], 'n', 't')
local n, last = tonumber(held[1] or '0'), tonumber(held[2] or '0')
if n >= free then
  local wait = last + math.min(base * 2 ^ (n - free), max) - now
  if wait > 0 then return {0, math.ceil(wait)} end
end
redis.call('HSET', KEYS[1], 'n', n + 1, 't', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1, n + 1}`

interface ScriptedClient {
  sigilRecordFailure(key: string, ttlSec: number): Promise<number>
  sigilBeginAttempt(key: string, nowMs: number, free: number, baseMs: number, maxMs: number, forgetSec: number): Promise<[number, number]>
}

/**
 * {@link AttemptCounters} in Redis, shared by every instance. Each mutation is one Lua script
 * on one key (so it also works on a cluster); keys live under `prefix`, each with a TTL.
 */
export function createRedisAttemptCounters(redis: RedisClient, prefix: string): AttemptCounters {
  redis.defineCommand('sigilRecordFailure', { numberOfKeys: 1, lua: RECORD_FAILURE })
  redis.defineCommand('sigilBeginAttempt', { numberOfKeys: 1, lua: BEGIN_ATTEMPT })
  const scripted = redis as unknown as ScriptedClient
  // The window number is part of the key; the key outlives its window, then expires.
  const failureKey = (key: string, nowMs: number, windowSec: number) =>
    `${prefix}failures:${key}:${Math.floor(nowMs / (windowSec * 1000))}`
  const attemptKey = (key: string) => `${prefix}attempts:${key}`
  return {
    recordFailure: (key, nowMs, windowSec) => scripted.sigilRecordFailure(failureKey(key, nowMs, windowSec), 2 * windowSec),
    failureCount: async (key, nowMs, windowSec) => Number(await redis.get(failureKey(key, nowMs, windowSec)) ?? 0),
    beginAttempt: async (key, nowMs, policy) => {
      const [allowed, value] = await scripted.sigilBeginAttempt(
        attemptKey(key), nowMs, policy.freeAttempts, policy.baseDelayMs, policy.maxDelayMs, policy.forgetAfterSec)
      return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs: value }
    },
    resetAttempts: async key => { await redis.del(attemptKey(key)) },
  }
}
