import { TtlCache } from '../../cache/ttl-cache.js'
import type { FamilyRecord, FamilyStore } from '../family-ports.js'
import { decideRotation, type RotationState } from '../family-rotation.js'

interface Family extends RotationState {
  record: FamilyRecord
}

/**
 * Past this many families (or denied access tokens) the least recently used goes: a bound on
 * memory, reached in practice only by ones long expired, since a live family is touched within
 * its idle window and a denied token is read whenever it is presented.
 */
const MAX_ENTRIES = 1_000_000

/**
 * {@link FamilyStore} in this process, for the single-instance embedded default. Node runs
 * each method to its first await without interruption, so every mutation here is atomic.
 * Entries expire by the caller's clock: each is kept until its idle or absolute expiry, or
 * for the retention once revoked.
 */
export function createMemoryFamilyStore(): FamilyStore {
  // The caller's time of the call under way: the caches read it as their clock.
  let callerNowMs = 0
  const now = () => callerNowMs
  const families = new TtlCache<string, Family>({ max: MAX_ENTRIES, now })
  const userFamilies = new Map<string, Set<string>>()
  const userRevoked = new TtlCache<string, { atMs: number }>({ max: MAX_ENTRIES, now })
  const denied = new TtlCache<string, true>({ max: MAX_ENTRIES, now })

  const entry = (familyId: string, nowMs: number) => {
    callerNowMs = nowMs
    return families.get(familyId)
  }
  const isLive = (f: Family, nowMs: number) =>
    !f.revoked && f.record.absoluteExpiresAtMs > nowMs && f.idleExpiresAtMs > nowMs
  const revoke = (f: Family, nowMs: number, retainMs: number) => {
    f.revoked = true
    f.successor = undefined
    families.set(f.record.familyId, f, retainMs)
  }

  return {
    createFamily: async (record, headHash, nowMs, idleTtlMs) => {
      callerNowMs = nowMs
      const idle = Math.min(nowMs + idleTtlMs, record.absoluteExpiresAtMs)
      families.set(record.familyId, { record, head: headHash, used: new Set(), idleExpiresAtMs: idle, revoked: false }, idle - nowMs)
      const mine = userFamilies.get(record.userId) ?? new Set<string>()
      userFamilies.set(record.userId, mine.add(record.familyId))
    },
    rotateRefreshToken: async a => {
      const f = entry(a.familyId, a.nowMs)
      const decision = f ? decideRotation(f, a) : { outcome: 'invalid' as const }
      switch (decision.outcome) {
        case 'rotated':
          families.set(a.familyId, decision.next, decision.next.idleExpiresAtMs - a.nowMs)
          return { outcome: 'rotated', family: decision.next.record }
        case 'reused':
          families.set(a.familyId, decision.next, a.retainMs)
          return { outcome: 'reused', family: decision.next.record }
        case 'grace': return { outcome: 'grace', family: f!.record, successorSealed: decision.successorSealed }
        case 'race': return { outcome: 'race' }
        default: return { outcome: 'invalid' }
      }
    },
    findFamilyOfToken: async (familyId, tokenHash, nowMs) => {
      const f = entry(familyId, nowMs)
      if (!f || !isLive(f, nowMs) || (f.head !== tokenHash && !f.used.has(tokenHash))) return null
      return { family: f.record, current: f.head === tokenHash }
    },
    revokeFamily: async (familyId, nowMs, retainMs) => {
      const f = entry(familyId, nowMs)
      if (!f) return null
      revoke(f, nowMs, retainMs)
      return f.record
    },
    isFamilyRevoked: async (familyId, nowMs) => entry(familyId, nowMs)?.revoked === true,
    familiesOfUser: async (userId, nowMs) => {
      const live = [...(userFamilies.get(userId) ?? [])].filter(id => entry(id, nowMs))
      if (live.length > 0) userFamilies.set(userId, new Set(live))
      else userFamilies.delete(userId)
      return live
    },
    markUserRevoked: async (userId, nowMs, retainMs) => {
      callerNowMs = nowMs
      userRevoked.set(userId, { atMs: nowMs }, retainMs)
    },
    userRevokedAtMs: async (userId, nowMs) => {
      callerNowMs = nowMs
      return userRevoked.get(userId)?.atMs ?? null
    },
    denyAccessToken: async (jti, expiresAtMs, nowMs) => {
      callerNowMs = nowMs
      if (expiresAtMs > nowMs) denied.set(jti, true, expiresAtMs - nowMs)
    },
    isAccessTokenDenied: async (jti, nowMs) => {
      callerNowMs = nowMs
      return denied.get(jti) === true
    },
  }
}
