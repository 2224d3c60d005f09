import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { InvalidClient, InvalidGrant, MalformedInput, TooManyRequests } from '../errors.js'
import type { AttemptSlot } from '../store/family-ports.js'
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
 * While attempts in flight (not failures) fill an IP's slots, a request waits for one to free
 * up, polling the store at 10 ms doubling to 100 ms, for at most this long in all: a burst of
 * good requests from one address (a NAT, a busy backend) is queued, not refused.
 */
const SLOT_WAIT_MAX_MS = 10_000
const SLOT_POLL_FIRST_MS = 10
const SLOT_POLL_MAX_MS = 100

/**
 * Issue 12: the IP slot check of one attempt, made by the attempt's own store step (today
 * FamilyStore.rotateRefreshTokenInIpSlot) so that a success costs that one step. The attempt
 * hands {@link slot} to that step and reports its verdict with {@link refused} or {@link passed}.
 */
export class IpSlotGate {
  /** What the attempt's store step said: not asked yet, let through, or let through and counted as a failure. */
  state: 'unchecked' | 'passed' | 'counted' = 'unchecked'
  constructor(readonly slot: AttemptSlot) {}
  /** The store step found the slots full and did nothing: throws, and {@link limitIpFailures} takes over. */
  refused(failures: number): never {
    throw new SlotsFull(failures)
  }
  /** The store step let the attempt through; `counted`: it also counted the attempt as a failure. */
  passed(counted: boolean): void {
    this.state = counted ? 'counted' : 'passed'
  }
}

class SlotsFull extends Error {
  constructor(readonly failures: number) {
    super('attempt slots full')
  }
}

/** The errors that keep their slot as a failure: a failed authentication or grant, or input no client sends. */
const isFailure = (err: unknown) => err instanceof InvalidClient || err instanceof InvalidGrant || err instanceof MalformedInput

/**
 * RATE_LIMIT_IP_FAILURES: runs one token-endpoint `attempt` from a client IP (an IPv6 client
 * is counted by its /64). Before `attempt` runs, one atomic store step takes an attempt slot of
 * that network for this minute; there are as many slots as the limit, each held by a failure
 * or by an attempt in flight. So a burst of any size runs at most the limit of attempts (and
 * so of secret checks and argon2 hashes) that can fail. Once failures fill the slots, the
 * request is refused with {@link TooManyRequests} (Retry-After: the rest of the minute); while
 * attempts in flight fill them, it waits for one (at most {@link SLOT_WAIT_MAX_MS}, then 429
 * with Retry-After 1). A failure is an {@link InvalidClient}, {@link InvalidGrant} or
 * {@link MalformedInput} thrown by `attempt` (a failed client authentication or login, or
 * input no client sends): it keeps its slot for the rest of the minute; anything else gives
 * the slot back. A limit of 0 turns this off. The store failing is an error (the Redis
 * adapter's 503), never a pass: brute-force limits fail closed.
 *
 * With `gateInAttempt` (issue 12; only for an attempt that checks no secret or password and
 * whose every successful path goes through a store step taking an {@link IpSlotGate}), no slot
 * is taken first: `attempt` gets the gate, and its store step checks the slots as
 * takeAttemptSlot would and counts a failure it ends in. Failures fill the slots: 429 as above;
 * attempts in flight fill them: the attempt is run again the usual way (it did nothing). A
 * failure after the step is counted with one store call; an attempt that ends before its step
 * is settled as it would have been the usual way (the slot taken, which may refuse, then ended).
 */
export async function limitIpFailures<T>(
  deps: AttemptLimitDeps, ip: string, attempt: (gate?: IpSlotGate) => Promise<T>, opts: { gateInAttempt?: boolean } = {},
): Promise<T> {
  const limit = deps.config.rateLimitIpFailures
  if (limit === 0) return attempt()
  const key = `ip:${networkOf(ip)}`
  if (opts.gateInAttempt) {
    const gate = new IpSlotGate({ key, nowMs: deps.clock.now(), windowSec: IP_WINDOW_SEC, limit })
    const gated = await attempt(gate).then(result => ({ result }), async (err: unknown) => {
      if (!(err instanceof SlotsFull)) throw await settleGated(deps, gate, err)
      if (err.failures >= limit) throw tooManyFailures(gate.slot)
      // Attempts in flight fill the slots: wait for one below, as every other attempt does.
      return null
    })
    if (gated) {
      // Never a silent pass: an attempt that promised its store step would check the slots did.
      if (gate.state === 'unchecked') throw new Error('a gated attempt succeeded without its IP slot check')
      return gated.result
    }
  }
  const takenAtMs = await takeSlot(deps, key, limit)
  // A slot that cannot be ended stays taken until the window ends: the limit errs towards refusing.
  const end = (failed: boolean) => deps.store.endAttempt(key, takenAtMs, IP_WINDOW_SEC, failed).catch(() => {})
  let result: T
  try {
    result = await attempt()
  } catch (err) {
    await end(isFailure(err))
    throw err
  }
  // A success gives its slot back without the response waiting for the store: the command is
  // sent now, before the answer (so on one connection it precedes the client's next request),
  // and until it lands the slot is still held, which errs towards refusing.
  void end(false)
  return result
}

/** Counts what a gated attempt that threw `err` owes the slots; returns the error to throw. */
async function settleGated(deps: AttemptLimitDeps, gate: IpSlotGate, err: unknown): Promise<unknown> {
  const { key, windowSec, limit } = gate.slot
  if (gate.state === 'passed' && isFailure(err)) await deps.store.recordFailure(key, gate.slot.nowMs, windowSec)
  if (gate.state === 'unchecked') {
    const takenAtMs = await takeSlot(deps, key, limit)
    await deps.store.endAttempt(key, takenAtMs, windowSec, isFailure(err)).catch(() => {})
  }
  return err
}

/** The refusal once failures fill the slots: Retry-After is the rest of the window. */
function tooManyFailures(slot: AttemptSlot): TooManyRequests {
  const windowMs = slot.windowSec * 1000
  return new TooManyRequests(Math.ceil((windowMs - (slot.nowMs % windowMs)) / 1000), `${slot.limit} failures from ${slot.key} this minute`)
}

/** Takes a slot of `key` (see {@link limitIpFailures}) and returns the time it was taken at, or throws TooManyRequests. */
async function takeSlot(deps: AttemptLimitDeps, key: string, limit: number): Promise<number> {
  let waitedMs = 0
  for (let pollMs = SLOT_POLL_FIRST_MS; ; pollMs = Math.min(2 * pollMs, SLOT_POLL_MAX_MS)) {
    const nowMs = deps.clock.now()
    const verdict = await deps.store.takeAttemptSlot(key, nowMs, IP_WINDOW_SEC, limit)
    if (verdict.allowed) return nowMs
    if (verdict.failures >= limit) throw tooManyFailures({ key, nowMs, windowSec: IP_WINDOW_SEC, limit })
    if (waitedMs >= SLOT_WAIT_MAX_MS) throw new TooManyRequests(1, `${limit} attempts from ${key} in flight for ${waitedMs} ms`)
    // Real time, not the injected clock: this waits for other requests to finish.
    await sleep(pollMs)
    waitedMs += pollMs
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
