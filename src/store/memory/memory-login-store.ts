import type { AuthorizationCodeRecord, CodeExchange, InteractionRecord, LoginSessionRecord, LoginStore } from '../login-ports.js'

interface Code { record: AuthorizationCodeRecord; state: 'new' | 'used' | 'replayed'; issued?: CodeExchange; dropAtMs: number }
interface Session { record: LoginSessionRecord; idleExpiresAtMs: number; families: Set<string> }

/** Entries past their time are dropped on read, and all of them every this many writes. */
const SWEEP_EVERY = 1024
/**
 * Anyone can start an authorization request, so pending ones are capped: past this many the
 * oldest is dropped (its user starts again), and a flood cannot exhaust memory.
 */
const MAX_INTERACTIONS = 100_000

/**
 * {@link LoginStore} in this process, for the single-instance embedded default. Node runs
 * each method to its first await without interruption, so every mutation here is atomic.
 */
export function createMemoryLoginStore(): LoginStore {
  const interactions = new Map<string, { record: InteractionRecord; untilMs: number }>()
  const codes = new Map<string, Code>()
  const sessions = new Map<string, Session>()
  const consents = new Map<string, { scope: Set<string>; untilMs: number }>()
  const userSessions = new Map<string, Set<string>>()
  let writes = 0
  const sweep = (nowMs: number) => {
    if (++writes % SWEEP_EVERY !== 0) return
    for (const [k, v] of interactions) if (v.untilMs <= nowMs) interactions.delete(k)
    for (const [k, v] of codes) if (v.dropAtMs <= nowMs) codes.delete(k)
    for (const [k, v] of sessions) if (!isLive(v, nowMs)) sessions.delete(k)
    for (const [k, v] of consents) if (v.untilMs <= nowMs) consents.delete(k)
  }
  const isLive = (s: Session, nowMs: number) => s.idleExpiresAtMs > nowMs && s.record.absoluteExpiresAtMs > nowMs
  const liveSession = (idHash: string, nowMs: number) => {
    const s = sessions.get(idHash)
    if (s && !isLive(s, nowMs)) sessions.delete(idHash)
    return s && isLive(s, nowMs) ? s : undefined
  }
  const consentKey = (userId: string, clientId: string) => JSON.stringify([userId, clientId])

  return {
    saveInteraction: async (id, record, nowMs, ttlMs) => {
      sweep(nowMs)
      if (interactions.size >= MAX_INTERACTIONS) interactions.delete(interactions.keys().next().value!)
      interactions.set(id, { record, untilMs: nowMs + ttlMs })
    },
    findInteraction: async (id, nowMs) => {
      const held = interactions.get(id)
      return held && held.untilMs > nowMs ? held.record : null
    },
    deleteInteraction: async id => { interactions.delete(id) },

    saveAuthorizationCode: async (codeHash, record, nowMs) => {
      sweep(nowMs)
      codes.set(codeHash, { record, state: 'new', dropAtMs: record.expiresAtMs })
    },
    consumeAuthorizationCode: async (codeHash, nowMs, retainMs) => {
      const c = codes.get(codeHash)
      if (!c || c.dropAtMs <= nowMs) return { outcome: 'invalid' }
      if (c.state === 'new') {
        if (c.record.expiresAtMs <= nowMs) return { outcome: 'invalid' }
        c.state = 'used'
        c.dropAtMs = nowMs + retainMs
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
      sweep(nowMs)
      const idleExpiresAtMs = Math.min(nowMs + idleTtlMs, record.absoluteExpiresAtMs)
      sessions.set(idHash, { record, idleExpiresAtMs, families: new Set() })
      userSessions.set(record.userId, (userSessions.get(record.userId) ?? new Set()).add(idHash))
    },
    touchLoginSession: async (idHash, nowMs, idleTtlMs) => {
      const s = liveSession(idHash, nowMs)
      if (!s) return null
      s.idleExpiresAtMs = Math.min(nowMs + idleTtlMs, s.record.absoluteExpiresAtMs)
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
      sweep(nowMs)
      const key = consentKey(userId, clientId)
      const held = consents.get(key)
      const kept = held && held.untilMs > nowMs ? held.scope : new Set<string>()
      consents.set(key, { scope: new Set([...kept, ...scope]), untilMs: nowMs + ttlMs })
    },
    consentedScopes: async (userId, clientId, nowMs) => {
      const held = consents.get(consentKey(userId, clientId))
      return held && held.untilMs > nowMs ? [...held.scope] : []
    },
    revokeConsent: async (userId, clientId) => { consents.delete(consentKey(userId, clientId)) },
  }
}
