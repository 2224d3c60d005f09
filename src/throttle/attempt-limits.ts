import { createHash } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { InvalidClient, InvalidGrant, TooManyRequests } from '../errors.js'
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
 * is counted by its /64). Once that network has had the limit of failures this minute, refuses
 * with {@link TooManyRequests} (Retry-After: the rest of the minute) before running anything.
 * A failure is an {@link InvalidClient} or {@link InvalidGrant} thrown by `attempt`: a failed
 * client authentication or login. A limit of 0 turns this off. The store failing is an error
 * (the Redis adapter's 503), never a pass: brute-force limits fail closed.
 */
export async function limitIpFailures<T>(deps: AttemptLimitDeps, ip: string, attempt: () => Promise<T>): Promise<T> {
  const limit = deps.config.rateLimitIpFailures
  if (limit === 0) return attempt()
  const key = `ip:${networkOf(ip)}`
  const nowMs = deps.clock.now()
  if (await deps.store.failureCount(key, nowMs, IP_WINDOW_SEC) >= limit) {
    const windowMs = IP_WINDOW_SEC * 1000
    throw new TooManyRequests(Math.ceil((windowMs - (nowMs % windowMs)) / 1000), `${limit} failures from ${key} this minute`)
  }
  try {
    return await attempt()
  } catch (err) {
    if (err instanceof InvalidClient || err instanceof InvalidGrant) {
      await deps.store.recordFailure(key, deps.clock.now(), IP_WINDOW_SEC)
    }
    throw err
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
