/**
 * Refresh-token families and revocation lists (RFC 6819 §5.2.2.3, RFC 7009), kept in the
 * store so every instance sees them. Tokens are never stored, only their SHA-256 hashes;
 * every record expires by itself. Times are epoch ms from the caller's clock: adapters check
 * expiry against it (their own TTLs are only a backstop), so tests can move time.
 */
export interface FamilyStore {
  /** Stores a new family whose first refresh token hashes to `headHash`. */
  createFamily(family: FamilyRecord, headHash: string, nowMs: number, idleTtlMs: number): Promise<void>
  /**
   * Atomic, one step in the store: if `presentedHash` is the family's head, makes `nextHash`
   * the head (`rotated`), keeping `successorSealed` for `graceMs`. If it is the head just
   * replaced, within the grace window: `grace` with that same successor; within
   * {@link RACE_WINDOW_MS} and no grace: `race` (a concurrent duplicate: refused, family kept).
   * Any older token of the family: `reused`, and the family is revoked. Unknown token, other
   * client, expired or revoked family: `invalid`. Never throws on bad input.
   */
  rotateRefreshToken(args: RotateArgs): Promise<RotateOutcome>
  /**
   * The live family `tokenHash` belongs to, and whether it is the family's current token (an
   * older, rotated one is not); null for an unknown token or a revoked or expired family.
   */
  findFamilyOfToken(familyId: string, tokenHash: string, nowMs: number): Promise<{ family: FamilyRecord; current: boolean } | null>
  /** Revokes a family; its record stays `retainMs` so access tokens carrying its sid read as revoked. */
  revokeFamily(familyId: string, nowMs: number, retainMs: number): Promise<FamilyRecord | null>
  isFamilyRevoked(familyId: string, nowMs: number): Promise<boolean>
  /** Ids of the families started for a user (some may have expired since). */
  familiesOfUser(userId: string, nowMs: number): Promise<string[]>
  /** Records that every token of `userId` issued up to `nowMs` is revoked, for `retainMs`. */
  markUserRevoked(userId: string, nowMs: number, retainMs: number): Promise<void>
  /** When the user's tokens were last revoked wholesale, or null. */
  userRevokedAtMs(userId: string, nowMs: number): Promise<number | null>
  /** Puts an access token's jti on the denylist until the token expires. */
  denyAccessToken(jti: string, expiresAtMs: number, nowMs: number): Promise<void>
  isAccessTokenDenied(jti: string, nowMs: number): Promise<boolean>
  /**
   * Optional: everything that can end an access token early, read in one store step: the
   * three lists above, then the store generation marker (Store.generationMarker) no earlier
   * than the lists. A store without it is read list by list, then the marker.
   */
  readRevocations?(token: { jti: string; sid?: string; sub: string }, nowMs: number): Promise<RevocationSnapshot>
  /**
   * Optional (issue 12: one round trip per successful refresh): in one atomic store step,
   * the check of AttemptCounters.takeAttemptSlot on `slot` (failures plus attempts in flight
   * below `slot.limit`), and only if it passes {@link rotateRefreshToken}. `throttled` (with
   * the window's failures) when the check refuses: nothing changed. Otherwise the rotation's
   * outcome; one that refuses the token (`reused`, `race`, `invalid`) is also counted as one
   * failure of the slot's window, as AttemptCounters.endAttempt(failed) counts it, and one
   * that succeeds leaves the slots as they were (no slot is taken, so none is to be ended).
   * A store without it (or a cluster, where the keys live on different slots) takes the slot,
   * rotates and ends the slot in three steps.
   */
  rotateRefreshTokenInIpSlot?(slot: AttemptSlot, args: RotateArgs): Promise<RotateOutcome | { outcome: 'throttled'; failures: number }>
}

/** The attempt slots of one failure limit (AttemptCounters.takeAttemptSlot's arguments). */
export interface AttemptSlot {
  key: string
  nowMs: number
  windowSec: number
  limit: number
}

/** What {@link FamilyStore.readRevocations} reads. */
export interface RevocationSnapshot {
  denied: boolean
  familyRevoked: boolean
  userRevokedAtMs: number | null
  /** The store generation marker, read after the rest; null when there is none. */
  marker: string | null
}

/** A concurrent duplicate of a refresh request arriving this soon after the rotation is not reuse. */
export const RACE_WINDOW_MS = 2000

export interface FamilyRecord {
  familyId: string
  userId: string
  clientId: string
  /** The client's registration generation when the family began (clients/client.ts). */
  clientGeneration: string
  scope: string[]
  authTimeSec: number
  createdAtMs: number
  absoluteExpiresAtMs: number
}

export interface RotateArgs {
  familyId: string
  presentedHash: string
  nextHash: string
  clientId: string
  nowMs: number
  idleTtlMs: number
  graceMs: number
  /** The successor token sealed under the KEK, kept only for the grace window; '' when there is none. */
  successorSealed: string
  /** How long a family revoked for reuse stays readable as revoked. */
  retainMs: number
}

export type RotateOutcome =
  | { outcome: 'rotated'; family: FamilyRecord }
  | { outcome: 'grace'; family: FamilyRecord; successorSealed: string }
  | { outcome: 'reused'; family: FamilyRecord }
  | { outcome: 'race' | 'invalid' }
