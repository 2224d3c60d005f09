import type { FamilyRecord, FamilyStore } from '../family-ports.js'
import { decideRotation, type RotationState } from '../family-rotation.js'

interface Family extends RotationState {
  record: FamilyRecord
  /** When the entry may be dropped (idle or absolute expiry; retention once revoked). */
  dropAtMs: number
}

/**
 * {@link FamilyStore} in this process, for the single-instance embedded default. Node runs
 * each method to its first await without interruption, so every mutation here is atomic.
 */
export function createMemoryFamilyStore(): FamilyStore {
  const families = new Map<string, Family>()
  const userFamilies = new Map<string, Set<string>>()
  const userRevoked = new Map<string, { atMs: number; untilMs: number }>()
  const denied = new Map<string, number>()

  const entry = (familyId: string, nowMs: number) => {
    const f = families.get(familyId)
    if (f && f.dropAtMs <= nowMs) {
      families.delete(familyId)
      return undefined
    }
    return f
  }
  const isLive = (f: Family, nowMs: number) =>
    !f.revoked && f.record.absoluteExpiresAtMs > nowMs && f.idleExpiresAtMs > nowMs
  const revoke = (f: Family, nowMs: number, retainMs: number) => {
    f.revoked = true
    f.successor = undefined
    f.dropAtMs = nowMs + retainMs
  }
  const sweep = (nowMs: number) => {
    if (families.size % 1024 !== 0) return
    for (const [id, f] of families) if (f.dropAtMs <= nowMs) families.delete(id)
    for (const [jti, until] of denied) if (until <= nowMs) denied.delete(jti)
  }

  return {
    createFamily: async (record, headHash, nowMs, idleTtlMs) => {
      sweep(nowMs)
      const idle = Math.min(nowMs + idleTtlMs, record.absoluteExpiresAtMs)
      families.set(record.familyId, { record, head: headHash, used: new Set(), idleExpiresAtMs: idle, revoked: false, dropAtMs: idle })
      const mine = userFamilies.get(record.userId) ?? new Set<string>()
      userFamilies.set(record.userId, mine.add(record.familyId))
    },
    rotateRefreshToken: async a => {
      const f = entry(a.familyId, a.nowMs)
      const decision = f ? decideRotation(f, a) : { outcome: 'invalid' as const }
      switch (decision.outcome) {
        case 'rotated':
          families.set(a.familyId, { ...decision.next, dropAtMs: decision.next.idleExpiresAtMs })
          return { outcome: 'rotated', family: decision.next.record }
        case 'reused':
          families.set(a.familyId, { ...decision.next, dropAtMs: a.nowMs + a.retainMs })
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
    markUserRevoked: async (userId, nowMs, retainMs) => { userRevoked.set(userId, { atMs: nowMs, untilMs: nowMs + retainMs }) },
    userRevokedAtMs: async (userId, nowMs) => {
      const r = userRevoked.get(userId)
      return r && r.untilMs > nowMs ? r.atMs : null
    },
    denyAccessToken: async (jti, expiresAtMs, nowMs) => { if (expiresAtMs > nowMs) denied.set(jti, expiresAtMs) },
    isAccessTokenDenied: async (jti, nowMs) => (denied.get(jti) ?? 0) > nowMs,
  }
}
