import { TtlCache } from '../../cache/ttl-cache.js'
import type { AuthorizationCodeRecord, CodeExchange, InteractionRecord, LoginSessionRecord, LoginStore } from '../login-ports.js'

interface Code { record: AuthorizationCodeRecord; state: 'new' | 'used' | 'replayed'; issued?: CodeExchange }
interface Session { record: LoginSessionRecord; families: Set<string> }

/**
 * Anyone can start an authorization request, so pending ones are capped: past this many the
 * least recently used goes (its user starts again), and a flood cannot exhaust memory.
 */
const MAX_INTERACTIONS = 100_000
/**
 * A bound on memory for codes, sessions and consents, reached in practice only by ones long
 * expired: the least recently used goes first.
 */
const MAX_ENTRIES = 1_000_000

/**
 * {@link LoginStore} in this process, for the single-instance embedded default. Node runs
 * each method to its first await without interruption, so every mutation here is atomic.
 * Entries expire by the caller's clock (each call's `nowMs`) in the one cache (issue 15).
 */
export function createMemoryLoginStore(): LoginStore {
  // The caller's time of the call under way: the caches read it as their clock.
  let callerNowMs = 0
  const now = () => callerNowMs
  const at = (nowMs: number) => { callerNowMs = nowMs }
  const interactions = new TtlCache<string, InteractionRecord>({ max: MAX_INTERACTIONS, now })
  const codes = new TtlCache<string, Code>({ max: MAX_ENTRIES, now })
  /** Each kept until its idle or absolute expiry, whichever is first. */
  const sessions = new TtlCache<string, Session>({ max: MAX_ENTRIES, now })
  const consents = new TtlCache<string, Set<string>>({ max: MAX_ENTRIES, now })
  const userSessions = new Map<string, Set<string>>()
  const liveSession = (idHash: string, nowMs: number) => {
    at(nowMs)
    return sessions.get(idHash)
  }
  const consentKey = (userId: string, clientId: string) => JSON.stringify([userId, clientId])

  return {
    saveInteraction: async (id, record, nowMs, ttlMs) => {
      at(nowMs)
      interactions.set(id, record, ttlMs)
    },
    findInteraction: async (id, nowMs) => {
      at(nowMs)
      return interactions.get(id) ?? null
    },
    deleteInteraction: async id => { interactions.delete(id) },

    saveAuthorizationCode: async (codeHash, record, nowMs) => {
      at(nowMs)
      codes.set(codeHash, { record, state: 'new' }, record.expiresAtMs - nowMs)
    },
    consumeAuthorizationCode: async (codeHash, nowMs, retainMs) => {
      at(nowMs)
      const c = codes.get(codeHash)
      if (!c) return { outcome: 'invalid' }
      if (c.state === 'new') {
        if (c.record.expiresAtMs <= nowMs) return { outcome: 'invalid' }
        c.state = 'used'
        codes.set(codeHash, c, retainMs)
        return { outcome: 'consumed', code: c.record }
      }
      c.state = 'replayed'
      return { outcome: 'replayed', code: c.record, ...(c.issued ? { issued: c.issued } : {}) }
    },
    recordCodeExchange: async (codeHash, issued) => {
      const c = codes.get(codeHash)
      if (!c) return 'replayed'
      c.issued = issued
      return c.state === 'replayed' ? 'replayed' : 'recorded'
    },

    createLoginSession: async (idHash, record, nowMs, idleTtlMs) => {
      at(nowMs)
      sessions.set(idHash, { record, families: new Set() }, Math.min(nowMs + idleTtlMs, record.absoluteExpiresAtMs) - nowMs)
      userSessions.set(record.userId, (userSessions.get(record.userId) ?? new Set()).add(idHash))
    },
    touchLoginSession: async (idHash, nowMs, idleTtlMs) => {
      const s = liveSession(idHash, nowMs)
      if (!s) return null
      sessions.set(idHash, s, Math.min(nowMs + idleTtlMs, s.record.absoluteExpiresAtMs) - nowMs)
      return s.record
    },
    addFamilyToLoginSession: async (idHash, familyId, nowMs) => {
      const s = liveSession(idHash, nowMs)
      s?.families.add(familyId)
      return s !== undefined
    },
    endLoginSession: async (idHash, nowMs) => {
      const s = liveSession(idHash, nowMs)
      sessions.delete(idHash)
      return s ? { session: s.record, familyIds: [...s.families] } : null
    },

    loginSessionsOfUser: async (userId, nowMs) => {
      const live = [...(userSessions.get(userId) ?? [])].filter(h => liveSession(h, nowMs))
      if (live.length > 0) userSessions.set(userId, new Set(live))
      else userSessions.delete(userId)
      return live
    },

    rememberConsent: async (userId, clientId, scope, nowMs, ttlMs) => {
      at(nowMs)
      const key = consentKey(userId, clientId)
      consents.set(key, new Set([...consents.get(key) ?? [], ...scope]), ttlMs)
    },
    consentedScopes: async (userId, clientId, nowMs) => {
      at(nowMs)
      return [...consents.get(consentKey(userId, clientId)) ?? []]
    },
    revokeConsent: async (userId, clientId) => { consents.delete(consentKey(userId, clientId)) },
  }
}
