import type { AttemptCounters } from '../ports.js'

/** Past this many records the oldest is dropped, so a flood of made-up usernames cannot exhaust memory. */
const MAX_RECORDS = 100_000

/**
 * {@link AttemptCounters} in one process. Node runs each call to completion before the next,
 * so every call is atomic; records expire by the caller's clock and are dropped oldest-first
 * past {@link MAX_RECORDS}.
 */
export function createMemoryAttemptCounters(): AttemptCounters {
  const slots = new Map<string, { window: number; failures: number; inFlight: number }>()
  const attempts = new Map<string, { count: number; lastMs: number }>()
  const requests = new Map<string, { count: number; startMs: number }>()
  const windowOf = (nowMs: number, windowSec: number) => Math.floor(nowMs / (windowSec * 1000))
  return {
    takeAttemptSlot: async (key, nowMs, windowSec, limit) => {
      const window = windowOf(nowMs, windowSec)
      const held = slots.get(key)
      const now = held?.window === window ? held : { window, failures: 0, inFlight: 0 }
      if (now.failures + now.inFlight >= limit) return { allowed: false, failures: now.failures }
      setBounded(slots, key, { ...now, inFlight: now.inFlight + 1 })
      return { allowed: true }
    },
    endAttempt: async (key, nowMs, windowSec, failed) => {
      const held = slots.get(key)
      // The window is over (or the record was dropped): its slots no longer count.
      if (held?.window !== windowOf(nowMs, windowSec)) return
      setBounded(slots, key, { ...held, failures: held.failures + (failed ? 1 : 0), inFlight: Math.max(0, held.inFlight - 1) })
    },
    beginAttempt: async (key, nowMs, policy) => {
      const held = attempts.get(key)
      const count = held && nowMs - held.lastMs < policy.forgetAfterSec * 1000 ? held.count : 0
      if (held && count >= policy.freeAttempts) {
        const delayMs = Math.min(policy.baseDelayMs * 2 ** (count - policy.freeAttempts), policy.maxDelayMs)
        const waitMs = held.lastMs + delayMs - nowMs
        if (waitMs > 0) return { allowed: false, retryAfterMs: Math.ceil(waitMs) }
      }
      setBounded(attempts, key, { count: count + 1, lastMs: nowMs })
      return { allowed: true }
    },
    resetAttempts: async key => { attempts.delete(key) },
    countRequest: async (key, nowMs, windowMs) => {
      const held = requests.get(key)
      const now = held && nowMs < held.startMs + windowMs ? { ...held, count: held.count + 1 } : { count: 1, startMs: nowMs }
      setBounded(requests, key, now)
      return { count: now.count, resetInMs: Math.min(windowMs, now.startMs + windowMs - nowMs) }
    },
  }
}

/** Sets `key` as the newest entry, dropping the oldest when full. */
function setBounded<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key)
  if (map.size >= MAX_RECORDS) map.delete(map.keys().next().value!)
  map.set(key, value)
}
