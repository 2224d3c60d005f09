import { createHash } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { InvalidClient, InvalidGrant, MalformedInput, TooManyRequests } from '../errors.js'
import type { AttemptCounters, BackoffPolicy } from '../store/ports.js'
import { networkOf } from './client-network.js'

export interface AttemptLimitDeps {
  store: AttemptCounters
  clock: Clock
  config: Pick<Config, 'rateLimitIpFailures' | 'rateLimitUserFailures'>
}

const IP_WINDOW_SEC = 60

/** Back-off after RATE_LIMIT_USER_FAILURES attempts: 1 s, doubling, at most 15 min. */
const userBackoff = (freeAttempts: number): BackoffPolicy => ({
  freeAttempts,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60 * 1000,
  // Forgetting sooner would hand a patient attacker a fresh set of free attempts.
  forgetAfterSec: 24 * 60 * 60,
})

/**
 * RATE_LIMIT_IP_FAILURES: runs one token-endpoint `attempt` from a client IP (an IPv6 client
 * is counted by its /64). Before `attempt` runs, one atomic store step takes an attempt slot of
 * that network for this minute, refused with {@link TooManyRequests} once its failures plus its
 * attempts still in flight reach the limit: a burst of any size runs at most the limit of
 * attempts (and so of secret checks and argon2 hashes) that can fail. A failure is an
 * {@link InvalidClient}, {@link InvalidGrant} or {@link MalformedInput} thrown by `attempt` (a
 * failed client authentication or login, or input no client sends): it keeps its slot for the
 * rest of the minute; anything else gives the slot back. A limit of 0 turns this off. The store
 * failing is an error (the Redis adapter's 503), never a pass: brute-force limits fail closed.
 */
export async function limitIpFailures<T>(deps: AttemptLimitDeps, ip: string, attempt: () => Promise<T>): Promise<T> {
  const limit = deps.config.rateLimitIpFailures
  if (limit === 0) return attempt()
  const key = `ip:${networkOf(ip)}`
  const takenAtMs = deps.clock.now()
  const verdict = await deps.store.takeAttemptSlot(key, takenAtMs, IP_WINDOW_SEC, limit)
  if (!verdict.allowed) {
    const windowMs = IP_WINDOW_SEC * 1000
    // Slots held only by attempts in flight free up within moments; failures only when the minute ends.
    const retryAfterSec = verdict.failures >= limit ? Math.ceil((windowMs - (takenAtMs % windowMs)) / 1000) : 1
    throw new TooManyRequests(retryAfterSec, `${limit} failures or attempts in flight from ${key} this minute`)
  }
  let failed = false
  try {
    return await attempt()
  } catch (err) {
    failed = err instanceof InvalidClient || err instanceof InvalidGrant || err instanceof MalformedInput
    throw err
  } finally {
    // A slot that cannot be ended stays taken until the window ends: the limit errs towards refusing.
    await deps.store.endAttempt(key, takenAtMs, IP_WINDOW_SEC, failed).catch(() => {})
  }
}

/**
 * RATE_LIMIT_USER_FAILURES: admits one login attempt for a normalized username, counting it,
 * or throws {@link TooManyRequests} while the username is backing off. Unknown usernames are
 * counted alike, so back-off says nothing about who exists. A limit of 0 turns this off.
 */
export async function admitLoginAttempt(deps: AttemptLimitDeps, usernameNormalized: string): Promise<void> {
  const free = deps.config.rateLimitUserFailures
  if (free === 0) return
  const verdict = await deps.store.beginAttempt(userKey(usernameNormalized), deps.clock.now(), userBackoff(free))
  if (!verdict.allowed) {
    throw new TooManyRequests(Math.ceil(verdict.retryAfterMs / 1000), 'username is backing off after failed logins')
  }
}

/** After a successful login: the username's failures are forgiven. */
export async function forgetLoginAttempts(deps: AttemptLimitDeps, usernameNormalized: string): Promise<void> {
  if (deps.config.rateLimitUserFailures === 0) return
  await deps.store.resetAttempts(userKey(usernameNormalized))
}

/** Usernames are hashed into keys: nothing personal sits in the store, and keys stay short. */
const userKey = (usernameNormalized: string) =>
  `user:${createHash('sha256').update(usernameNormalized).digest('base64url')}`
