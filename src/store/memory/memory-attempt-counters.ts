import { TtlCache } from '../../cache/ttl-cache.js'
import type { AttemptCounters } from '../ports.js'

/** Past this many records of a kind the least recently used goes, so a flood of made-up usernames cannot exhaust memory. */
const MAX_RECORDS = 100_000

/**
 * {@link AttemptCounters} in one process. Node runs each call to completion before the next,
 * so every call is atomic. Records expire by the caller's clock (each call's `nowMs`), with the
 * lifetimes the Redis adapter gives its keys: a window's slots two windows, attempts
 * `forgetAfterSec` after the last one; past {@link MAX_RECORDS} the least recently used goes.
 */
export function createMemoryAttemptCounters(): AttemptCounters {
  // The caller's time of the call under way: the caches read it as their clock.
  let callerNowMs = 0
  const now = () => callerNowMs
  const slots = new TtlCache<string, { window: number; failures: number; inFlight: number }>({ max: MAX_RECORDS, now })
  const attempts = new TtlCache<string, { count: number; lastMs: number }>({ max: MAX_RECORDS, now })
  const requests = new TtlCache<string, { count: number; startMs: number }>({ max: MAX_RECORDS, now })
  const windowOf = (nowMs: number, windowSec: number) => Math.floor(nowMs / (windowSec * 1000))
  /** The slots of `key` in the window holding `nowMs` (none taken when it has no record yet). */
  const slotsNow = (key: string, nowMs: number, windowSec: number) => {
    callerNowMs = nowMs
    const window = windowOf(nowMs, windowSec)
    const held = slots.get(key)
    return held?.window === window ? held : { window, failures: 0, inFlight: 0 }
  }
  return {
    takeAttemptSlot: async (key, nowMs, windowSec, limit) => {
      const current = slotsNow(key, nowMs, windowSec)
      if (current.failures + current.inFlight >= limit) return { allowed: false, failures: current.failures }
      slots.set(key, { ...current, inFlight: current.inFlight + 1 }, 2 * windowSec * 1000)
      return { allowed: true }
    },
    endAttempt: async (key, nowMs, windowSec, failed) => {
      callerNowMs = nowMs
      const held = slots.get(key)
      // The window is over (or the record was dropped): its slots no longer count.
      if (held?.window !== windowOf(nowMs, windowSec)) return
      slots.set(key, { ...held, failures: held.failures + (failed ? 1 : 0), inFlight: Math.max(0, held.inFlight - 1) }, 2 * windowSec * 1000)
    },
    recordFailure: async (key, nowMs, windowSec) => {
      const current = slotsNow(key, nowMs, windowSec)
      slots.set(key, { ...current, failures: current.failures + 1 }, 2 * windowSec * 1000)
    },
    beginAttempt: async (key, nowMs, policy) => {
      callerNowMs = nowMs
      const held = attempts.get(key)
      const count = held?.count ?? 0
      if (held && count >= policy.freeAttempts) {
        const delayMs = Math.min(policy.baseDelayMs * 2 ** (count - policy.freeAttempts), policy.maxDelayMs)
        const waitMs = held.lastMs + delayMs - nowMs
        if (waitMs > 0) return { allowed: false, retryAfterMs: Math.ceil(waitMs) }
      }
      attempts.set(key, { count: count + 1, lastMs: nowMs }, policy.forgetAfterSec * 1000)
      return { allowed: true }
    },
    resetAttempts: async key => { attempts.delete(key) },
    countRequest: async (key, nowMs, windowMs) => {
      callerNowMs = nowMs
      const held = requests.get(key)
      const next = held && nowMs < held.startMs + windowMs ? { ...held, count: held.count + 1 } : { count: 1, startMs: nowMs }
      requests.set(key, next, next.startMs + windowMs - nowMs)
      return { count: next.count, resetInMs: Math.min(windowMs, next.startMs + windowMs - nowMs) }
    },
  }
}
