import type { LoginStore } from './login-ports.js'
import type { FamilyStore } from './family-ports.js'

/**
 * What Sigil keeps outside its database: cross-instance notifications, refresh families,
 * denylists, login sessions and rate-limit counters. Two adapters implement it, Redis (many
 * instances) and in-process memory (the single-instance embedded default), and both pass the
 * same contract tests (test/store/attempt-counters, family-store, login-store).
 */
export interface Store extends AttemptCounters, FamilyStore, LoginStore {
  readonly kind: 'redis' | 'memory'
  /**
   * Delivers `message` to every subscriber of `channel` in every instance, this one included.
   * Best effort: a message lost while disconnected is covered by each subscriber's periodic reload.
   */
  publish(channel: string, message: string): Promise<void>
  /** Registers a handler; resolves once subscribed. Handlers must not throw. */
  subscribe(channel: string, handler: (message: string) => void): Promise<void>
  /**
   * The store's generation marker: a value kept in the store itself, so it is gone whenever
   * what the store remembers is gone (restart without persistence, FLUSHALL, a new in-process
   * store). Null when there is none. See revocation/store-generation.ts.
   */
  generationMarker(): Promise<string | null>
  /**
   * Atomic: sets the marker to `next` only if it is `expected` now (null: absent), so of
   * several instances noticing a loss at once the first one's marker stays. Returns the marker
   * the store holds afterwards: `next`, or the one that was there (null if none).
   */
  swapGenerationMarker(expected: string | null, next: string): Promise<string | null>
  /** Throws when the store is unusable (for /readyz). */
  ping(): Promise<void>
  close(): Promise<void>
}

/** Channels published on the store. */
export const CHANNELS = {
  /** A signing key changed state: reload the key ring. */
  keys: 'keys',
  /** A client changed: payload is its client_id. */
  clients: 'clients',
  /** A user was deleted or changed: payload is its id. */
  users: 'users',
} as const

/**
 * Counters behind the rate limits (RATE_LIMIT_IP_FAILURES, RATE_LIMIT_USER_FAILURES, RATE_LIMIT_IP),
 * shared by every instance. Each call is one atomic step inside the store, never a read then
 * a write from Node. Keys are the caller's (the adapter namespaces them) and every stored
 * record expires by itself. Times are epoch ms from the caller's clock.
 */
export interface AttemptCounters {
  /**
   * Atomic gate of a failure limit: in the fixed window of `windowSec` that holds `nowMs`, takes
   * one attempt slot of `key` unless its failures plus its attempts still in flight already
   * reach `limit`. Checking and taking are one step, so a burst of parallel attempts gets at
   * most `limit` slots. A refusal changes nothing and says how many of the slots are failures
   * (the rest are in flight and end soon). Every taken slot must be ended by {@link endAttempt}.
   */
  takeAttemptSlot(key: string, nowMs: number, windowSec: number, limit: number): Promise<SlotVerdict>
  /**
   * Atomic: ends a slot taken by {@link takeAttemptSlot} with the same `nowMs`; a failed
   * attempt keeps its slot as a failure for the rest of the window, any other gives it back.
   */
  endAttempt(key: string, nowMs: number, windowSec: number, failed: boolean): Promise<void>
  /**
   * Atomic: counts one failure of `key` in the window holding `nowMs`, for an attempt that took
   * no slot because its own store step checked the slots (FamilyStore.rotateRefreshTokenInIpSlot)
   * and that failed after that step. Like a slot taken and ended as failed in one go.
   */
  recordFailure(key: string, nowMs: number, windowSec: number): Promise<void>
  /**
   * Atomic back-off gate. After n attempts of `key`, the next is allowed when n is below
   * `policy.freeAttempts` or when min(baseDelayMs × 2^(n − freeAttempts), maxDelayMs) has
   * passed since the last one; an allowed attempt is counted (before its outcome is known, so
   * a burst of parallel attempts cannot slip past the gate). A refused one changes nothing.
   */
  beginAttempt(key: string, nowMs: number, policy: BackoffPolicy): Promise<AttemptVerdict>
  /** Forgets every attempt of `key` (after a successful login). */
  resetAttempts(key: string): Promise<void>
  /**
   * Atomic request counter of a volume cap (RATE_LIMIT_IP): counts one request of `key` in its
   * window and returns the requests counted in it so far, this one included, and the ms left
   * until it ends (0 < resetInMs <= windowMs). A window opens at the first request after the
   * previous one ended and lasts `windowMs`; counting and checking the window are one step, so
   * parallel requests never share a count.
   */
  countRequest(key: string, nowMs: number, windowMs: number): Promise<RequestCount>
}

export interface RequestCount {
  count: number
  resetInMs: number
}

export interface BackoffPolicy {
  /** Attempts allowed before back-off starts. */
  freeAttempts: number
  baseDelayMs: number
  maxDelayMs: number
  /** A record with no attempt for this long is forgotten. */
  forgetAfterSec: number
}

export type SlotVerdict = { allowed: true } | { allowed: false; failures: number }

export type AttemptVerdict = { allowed: true } | { allowed: false; retryAfterMs: number }
