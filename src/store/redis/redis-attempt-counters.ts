import type { AttemptCounters } from '../ports.js'
import type { RedisClient } from './connection.js'

/**
 * Lua: the one reading of a slot window (its failures, and whether failures and attempts in
 * flight fill `limit`) and the one way a failure is counted in it. Shared with the family
 * store's rotation inside a slot (redis-family-store.ts), so the rule has one copy.
 */
export const SLOT_FUNCTIONS = `
local function slotState(key, limit)
  local held = redis.call('HMGET', key, 'failures', 'in_flight')
  local failures, inFlight = tonumber(held[1] or '0'), tonumber(held[2] or '0')
  return failures, failures + inFlight >= limit
end
local function countFailure(key, ttlSec)
  redis.call('HINCRBY', key, 'failures', 1)
  redis.call('EXPIRE', key, ttlSec)
end`

/** AttemptCounters.takeAttemptSlot: check and take in one step; the window's key expires by itself. */
const TAKE_ATTEMPT_SLOT = `${SLOT_FUNCTIONS}
local limit, ttlSec = tonumber(ARGV[1]), ARGV[2]
local failures, full = slotState(KEYS[1], limit)
if full then return {0, failures} end
redis.call('HINCRBY', KEYS[1], 'in_flight', 1)
redis.call('EXPIRE', KEYS[1], ttlSec)
return {1, failures}`

/** AttemptCounters.endAttempt: an expired window is not brought back (it would have no TTL). */
const END_ATTEMPT = `
local failed = ARGV[1] == '1'
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local inFlight = tonumber(redis.call('HGET', KEYS[1], 'in_flight') or '0')
if inFlight > 0 then redis.call('HINCRBY', KEYS[1], 'in_flight', -1) end
if failed then redis.call('HINCRBY', KEYS[1], 'failures', 1) end
return 1`

/** AttemptCounters.recordFailure: the window's key is made if need be, with its TTL. */
const RECORD_FAILURE = `${SLOT_FUNCTIONS}
countFailure(KEYS[1], ARGV[1])`

/**
 * The back-off gate of AttemptCounters.beginAttempt: check and count in one step. A record
 * untouched for forgetAfterSec is forgotten by the caller's clock (`now`), like the memory
 * adapter's; the key's TTL only frees it.
 */
const BEGIN_ATTEMPT = `
local now, free, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local forgetMs = tonumber(ARGV[5]) * 1000
local held = redis.call('HMGET', KEYS[1], 'n', 't')
local n, last = tonumber(held[1] or '0'), tonumber(held[2] or '0')
if now - last >= forgetMs then n = 0 end
if n >= free then
  local wait = last + math.min(base * 2 ^ (n - free), max) - now
  if wait > 0 then return {0, math.ceil(wait)} end
end
redis.call('HSET', KEYS[1], 'n', n + 1, 't', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1, n + 1}`

/**
 * AttemptCounters.countRequest: count and window check in one step. The window is the caller's
 * clock's, as for the other counters; the key outlives the window, then expires.
 */
const COUNT_REQUEST = `
local now, windowMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local held = redis.call('HMGET', KEYS[1], 'count', 'start')
local count, startMs = tonumber(held[1] or '0'), tonumber(held[2] or '0')
if count == 0 or now >= startMs + windowMs then count, startMs = 0, now end
count = count + 1
redis.call('HSET', KEYS[1], 'count', count, 'start', startMs)
redis.call('PEXPIRE', KEYS[1], 2 * windowMs)
return {count, math.min(windowMs, startMs + windowMs - now)}`

/**
 * The Redis key of `key`'s attempt slots in the window holding `nowMs` (also read by the family
 * store's rotateRefreshTokenInIpSlot). The window number is part of the key; the key outlives
 * its window (TTL {@link attemptSlotTtlSec}), then expires.
 */
export const attemptSlotKey = (prefix: string, key: string, nowMs: number, windowSec: number) =>
  `${prefix}slots:${key}:${Math.floor(nowMs / (windowSec * 1000))}`

/** The TTL of an attempt slot window's key. */
export const attemptSlotTtlSec = (windowSec: number) => 2 * windowSec

interface ScriptedClient {
  sigilTakeAttemptSlot(key: string, limit: number, ttlSec: number): Promise<[number, number]>
  sigilEndAttempt(key: string, failed: 0 | 1): Promise<number>
  sigilRecordFailure(key: string, ttlSec: number): Promise<null>
  sigilBeginAttempt(key: string, nowMs: number, free: number, baseMs: number, maxMs: number, forgetSec: number): Promise<[number, number]>
  sigilCountRequest(key: string, nowMs: number, windowMs: number): Promise<[number, number]>
}

/**
 * {@link AttemptCounters} in Redis, shared by every instance. Each mutation is one Lua script
 * on one key (so it also works on a cluster); keys live under `prefix`, each with a TTL.
 */
export function createRedisAttemptCounters(redis: RedisClient, prefix: string): AttemptCounters {
  redis.defineCommand('sigilTakeAttemptSlot', { numberOfKeys: 1, lua: TAKE_ATTEMPT_SLOT })
  redis.defineCommand('sigilEndAttempt', { numberOfKeys: 1, lua: END_ATTEMPT })
  redis.defineCommand('sigilRecordFailure', { numberOfKeys: 1, lua: RECORD_FAILURE })
  redis.defineCommand('sigilBeginAttempt', { numberOfKeys: 1, lua: BEGIN_ATTEMPT })
  redis.defineCommand('sigilCountRequest', { numberOfKeys: 1, lua: COUNT_REQUEST })
  const scripted = redis as unknown as ScriptedClient
  const slotKey = (key: string, nowMs: number, windowSec: number) => attemptSlotKey(prefix, key, nowMs, windowSec)
  const attemptKey = (key: string) => `${prefix}attempts:${key}`
  return {
    takeAttemptSlot: async (key, nowMs, windowSec, limit) => {
      const [allowed, failures] = await scripted.sigilTakeAttemptSlot(slotKey(key, nowMs, windowSec), limit, attemptSlotTtlSec(windowSec))
      return allowed === 1 ? { allowed: true } : { allowed: false, failures }
    },
    endAttempt: async (key, nowMs, windowSec, failed) => {
      await scripted.sigilEndAttempt(slotKey(key, nowMs, windowSec), failed ? 1 : 0)
    },
    recordFailure: async (key, nowMs, windowSec) => {
      await scripted.sigilRecordFailure(slotKey(key, nowMs, windowSec), attemptSlotTtlSec(windowSec))
    },
    beginAttempt: async (key, nowMs, policy) => {
      const [allowed, value] = await scripted.sigilBeginAttempt(
        attemptKey(key), nowMs, policy.freeAttempts, policy.baseDelayMs, policy.maxDelayMs, policy.forgetAfterSec)
      return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs: value }
    },
    resetAttempts: async key => { await redis.del(attemptKey(key)) },
    countRequest: async (key, nowMs, windowMs) => {
      const [count, resetInMs] = await scripted.sigilCountRequest(`${prefix}requests:${key}`, nowMs, windowMs)
      return { count, resetInMs }
    },
  }
}
