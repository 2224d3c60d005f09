import type {
  AuthorizationCodeRecord, CodeExchange, ConsumeOutcome, InteractionRecord, LoginSessionRecord, LoginStore,
} from '../login-ports.js'
import type { RedisClient } from './connection.js'

// A login session's two keys share the hash tag {idHash}, so each script touches one slot.
// Records are JSON in one field; expiry is checked against the caller's clock, and PEXPIRE
// is the backstop that makes sure no key outlives it.

/** KEYS: code. ARGV: now, retain ms. Returns {outcome, record json, issued json}. */
const CONSUME_CODE = `
local state, rec, issued, exp = unpack(redis.call('HMGET', KEYS[1], 'state', 'rec', 'issued', 'exp'))
if not state then return {'invalid'} end
local now = tonumber(ARGV[1])
if state == 'new' then
  if tonumber(exp) <= now then return {'invalid'} end
  redis.call('HSET', KEYS[1], 'state', 'used')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'consumed', rec}
end
redis.call('HSET', KEYS[1], 'state', 'replayed')
return {'replayed', rec, issued or ''}`

/** KEYS: code. ARGV: issued json. Returns the code's state after recording. */
const RECORD_EXCHANGE = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'replayed' end
redis.call('HSET', KEYS[1], 'issued', ARGV[1])
return state == 'replayed' and 'replayed' or 'recorded'`

/** KEYS: session, its families. ARGV: now, idle ttl ms. Returns the record json, or nothing. */
const TOUCH_SESSION = `
local rec, idle, abs = unpack(redis.call('HMGET', KEYS[1], 'rec', 'idle', 'abs'))
local now = tonumber(ARGV[1])
if not rec or tonumber(idle) <= now or tonumber(abs) <= now then return false end
local nextIdle = math.min(now + tonumber(ARGV[2]), tonumber(abs))
redis.call('HSET', KEYS[1], 'idle', nextIdle)
redis.call('PEXPIRE', KEYS[1], math.max(nextIdle - now, 1))
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], math.max(nextIdle - now, 1)) end
return rec`

/** KEYS: session, its families. ARGV: family id. The set lives exactly as long as its session. */
const ADD_FAMILY = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
return 1`

/** KEYS: session, its families. ARGV: now. Returns {record json, family ids...} of a live session, deleting both. */
const END_SESSION = `
local rec, idle, abs = unpack(redis.call('HMGET', KEYS[1], 'rec', 'idle', 'abs'))
local families = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
local now = tonumber(ARGV[1])
if not rec or tonumber(idle) <= now or tonumber(abs) <= now then return {} end
return {rec, unpack(families)}`

/** KEYS: a user's session index. ARGV: session hash, ttl ms. The index lives as long as its longest session. */
const INDEX_SESSION = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end`

/** KEYS: consent set. ARGV: ttl ms, scopes... */
const REMEMBER_CONSENT = `
redis.call('SADD', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])`

interface Scripted {
  sigilCodeConsume(code: string, nowMs: number, retainMs: number): Promise<string[]>
  sigilCodeRecord(code: string, issued: string): Promise<'recorded' | 'replayed'>
  sigilLoginTouch(session: string, families: string, nowMs: number, idleTtlMs: number): Promise<string | null>
  sigilLoginAddFamily(session: string, families: string, familyId: string): Promise<number>
  sigilLoginEnd(session: string, families: string, nowMs: number): Promise<string[]>
  sigilLoginIndex(key: string, idHash: string, ttlMs: number): Promise<void>
  sigilConsentRemember(key: string, ttlMs: number, ...scope: string[]): Promise<void>
}

/** {@link LoginStore} in Redis: every check-and-change one Lua script on one slot. */
export function createRedisLoginStore(redis: RedisClient, prefix: string): LoginStore {
  redis.defineCommand('sigilCodeConsume', { numberOfKeys: 1, lua: CONSUME_CODE })
  redis.defineCommand('sigilCodeRecord', { numberOfKeys: 1, lua: RECORD_EXCHANGE })
  redis.defineCommand('sigilLoginTouch', { numberOfKeys: 2, lua: TOUCH_SESSION })
  redis.defineCommand('sigilLoginAddFamily', { numberOfKeys: 2, lua: ADD_FAMILY })
  redis.defineCommand('sigilLoginEnd', { numberOfKeys: 2, lua: END_SESSION })
  redis.defineCommand('sigilLoginIndex', { numberOfKeys: 1, lua: INDEX_SESSION })
  redis.defineCommand('sigilConsentRemember', { numberOfKeys: 1, lua: REMEMBER_CONSENT })
  const r = redis as unknown as Scripted
  const interaction = (id: string) => `${prefix}interaction:${id}`
  const code = (hash: string) => `${prefix}code:${hash}`
  const session = (hash: string) => [`${prefix}login-session:{${hash}}`, `${prefix}login-session:{${hash}}:families`] as const
  const userSessions = (userId: string) => `${prefix}user-login-sessions:{${userId}}`
  const consent = (userId: string, clientId: string) => `${prefix}consent:${JSON.stringify([userId, clientId])}`
  const ms = (n: number) => Math.max(Math.ceil(n), 1)

  return {
    saveInteraction: async (id, record, _nowMs, ttlMs) => {
      await redis.set(interaction(id), JSON.stringify(record), 'PX', ms(ttlMs))
    },
    findInteraction: async id => {
      const json = await redis.get(interaction(id))
      return json === null ? null : JSON.parse(json) as InteractionRecord
    },
    deleteInteraction: async id => { await redis.del(interaction(id)) },

    saveAuthorizationCode: async (hash, record, nowMs) => {
      await redis.multi()
        .hset(code(hash), 'state', 'new', 'rec', JSON.stringify(record), 'exp', record.expiresAtMs)
        .pexpire(code(hash), ms(record.expiresAtMs - nowMs))
        .exec()
    },
    consumeAuthorizationCode: async (hash, nowMs, retainMs): Promise<ConsumeOutcome> => {
      const [outcome, rec, issued] = await r.sigilCodeConsume(code(hash), nowMs, ms(retainMs))
      if (outcome === 'invalid' || rec === undefined) return { outcome: 'invalid' }
      const record = JSON.parse(rec) as AuthorizationCodeRecord
      if (outcome === 'consumed') return { outcome, code: record }
      return { outcome: 'replayed', code: record, ...(issued ? { issued: JSON.parse(issued) as CodeExchange } : {}) }
    },
    recordCodeExchange: (hash, issued) => r.sigilCodeRecord(code(hash), JSON.stringify(issued)),

    createLoginSession: async (hash, record, nowMs, idleTtlMs) => {
      const idle = Math.min(nowMs + idleTtlMs, record.absoluteExpiresAtMs)
      const [key] = session(hash)
      await redis.multi()
        .hset(key, 'rec', JSON.stringify(record), 'idle', idle, 'abs', record.absoluteExpiresAtMs)
        .pexpire(key, ms(idle - nowMs))
        .exec()
      // The index is another slot: a second step. An index entry whose session is gone is harmless.
      await r.sigilLoginIndex(userSessions(record.userId), hash, ms(record.absoluteExpiresAtMs - nowMs))
    },
    touchLoginSession: async (hash, nowMs, idleTtlMs) => {
      const rec = await r.sigilLoginTouch(...session(hash), nowMs, idleTtlMs)
      return rec ? JSON.parse(rec) as LoginSessionRecord : null
    },
    addFamilyToLoginSession: async (hash, familyId) => (await r.sigilLoginAddFamily(...session(hash), familyId)) === 1,
    endLoginSession: async (hash, nowMs) => {
      const [rec, ...familyIds] = await r.sigilLoginEnd(...session(hash), nowMs)
      return rec ? { session: JSON.parse(rec) as LoginSessionRecord, familyIds } : null
    },

    loginSessionsOfUser: userId => redis.smembers(userSessions(userId)),

    rememberConsent: async (userId, clientId, scope, _nowMs, ttlMs) => {
      if (scope.length > 0) await r.sigilConsentRemember(consent(userId, clientId), ms(ttlMs), ...scope)
    },
    consentedScopes: (userId, clientId) => redis.smembers(consent(userId, clientId)),
    revokeConsent: async (userId, clientId) => { await redis.del(consent(userId, clientId)) },
  }
}
