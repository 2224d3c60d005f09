import { RACE_WINDOW_MS, type FamilyRecord, type RotateArgs } from './family-ports.js'

/**
 * What a refresh rotation reads and writes of a family. The memory adapter keeps exactly this;
 * the Redis adapter's rotation script (redis-family-store.ts) keeps its own copy of
 * {@link decideRotation} in Lua, over the same fields.
 */
export interface RotationState {
  record: Pick<FamilyRecord, 'clientId' | 'absoluteExpiresAtMs'>
  /** Hash of the current refresh token. */
  head: string
  /** Hash of the token the last rotation replaced, and when. */
  prev?: string
  rotatedAtMs?: number
  /** Hashes of every token rotated away (reuse of one of them is theft). */
  used: ReadonlySet<string>
  /** The sealed successor of `prev`, handed out again until `untilMs` (the reuse grace). */
  successor?: { sealed: string; untilMs: number }
  idleExpiresAtMs: number
  revoked: boolean
}

/**
 * The outcome of presenting a refresh token, and the family's state afterwards when it changes
 * (`rotated`; `reused`, which revokes). `expired`, `revoked` and `invalid` (unknown token,
 * other client) all read `invalid` to the caller of the port.
 */
export type RotationDecision<S extends RotationState> =
  | { outcome: 'rotated' | 'reused'; next: S }
  | { outcome: 'grace'; successorSealed: string }
  | { outcome: 'race' | 'invalid' | 'expired' | 'revoked' }

/**
 * Pure: decides one rotation of `family` (the contract of FamilyStore.rotateRefreshToken) at
 * `args.nowMs`. Never mutates `family`; a changed state comes back as `next`.
 */
export function decideRotation<S extends RotationState>(family: S, args: RotateArgs): RotationDecision<S> {
  const now = args.nowMs
  if (family.revoked) return { outcome: 'revoked' }
  if (family.record.absoluteExpiresAtMs <= now || family.idleExpiresAtMs <= now) return { outcome: 'expired' }
  if (family.record.clientId !== args.clientId) return { outcome: 'invalid' }
  if (family.head === args.presentedHash) {
    const keepsSuccessor = args.graceMs > 0 && args.successorSealed !== ''
    return {
      outcome: 'rotated',
      next: {
        ...family,
        used: new Set(family.used).add(args.presentedHash),
        prev: args.presentedHash,
        rotatedAtMs: now,
        head: args.nextHash,
        idleExpiresAtMs: Math.min(now + args.idleTtlMs, family.record.absoluteExpiresAtMs),
        successor: keepsSuccessor ? { sealed: args.successorSealed, untilMs: now + args.graceMs } : undefined,
      },
    }
  }
  if (family.prev === args.presentedHash && family.rotatedAtMs !== undefined) {
    const sinceMs = now - family.rotatedAtMs
    if (family.successor && sinceMs <= args.graceMs && family.successor.untilMs >= now) {
      return { outcome: 'grace', successorSealed: family.successor.sealed }
    }
    // A concurrent duplicate of the request that rotated: refused, the family kept.
    if (sinceMs <= RACE_WINDOW_MS) return { outcome: 'race' }
  }
  // RFC 6819 5.2.2.3: a rotated token coming back means it leaked, so the family ends.
  if (family.used.has(args.presentedHash)) return { outcome: 'reused', next: { ...family, revoked: true, successor: undefined } }
  return { outcome: 'invalid' }
}
