import { RACE_WINDOW_MS, type AttemptSlot, type FamilyRecord, type RotateArgs, type RotateOutcome, type FamilyStore } from '../family-ports.js'
import type { RedisClient } from './connection.js'
import { attemptSlotKey, attemptSlotTtlSec, SLOT_FUNCTIONS } from './redis-attempt-counters.js'

// A family's keys share the hash tag {familyId}, so each script touches one cluster slot.
// Logical expiry is checked against the caller's clock; PEXPIRE is the backstop that makes
// sure nothing outlives it.

// The record's fields, in the order toRecord reads them; every script reads them first.
const FIELDS = `'user', 'client', 'scope', 'auth', 'created', 'abs', 'cgen'`

/** KEYS: family. ARGV: user, client, scope, auth, created, abs, cgen, head, idle expiry, ttl ms. */
const CREATE = `
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'client', ARGV[2], 'scope', ARGV[3], 'auth', ARGV[4],
  'created', ARGV[5], 'abs', ARGV[6], 'cgen', ARGV[7], 'head', ARGV[8], 'idle', ARGV[9])
redis.call('PEXPIRE', KEYS[1], ARGV[10])`

/**
 * The rotation as a Lua function of the family's three keys and the RotateArgs `a`; returns
 * {outcome, ...record}. Lua's copy of decideRotation (store/family-rotation.ts): keep the two in step.
 */
const ROTATE_FUNCTION = `
local function rotate(familyKey, usedKey, successorKey, a)
local presented, nextHash, clientId = a[1], a[2], a[3]
local now, idleTtl, grace = tonumber(a[4]), tonumber(a[5]), tonumber(a[6])
local sealed, retain, raceWindow = a[7], a[8], tonumber(a[9])
local f = redis.call('HMGET', familyKey, ${FIELDS}, 'idle', 'head', 'prev', 'rot', 'revoked')
if not f[1] then return {'invalid'} end
local rec = {f[1], f[2], f[3], f[4], f[5], f[6], f[7]}
local owner, absExpiry = f[2], tonumber(f[6])
local idleExpiry, head, prev, rotatedAt, revoked = tonumber(f[8]), f[9], f[10], tonumber(f[11]), f[12]
if revoked == '1' or absExpiry <= now or idleExpiry <= now or owner ~= clientId then return {'invalid'} end
if head == presented then
  local nextIdle = math.min(now + idleTtl, absExpiry)
  redis.call('SADD', usedKey, presented)
  redis.call('HSET', familyKey, 'head', nextHash, 'prev', presented, 'rot', now, 'idle', nextIdle)
  redis.call('PEXPIRE', familyKey, math.max(nextIdle - now, 1))
  redis.call('PEXPIRE', usedKey, math.max(nextIdle - now, 1))
  if grace > 0 and sealed ~= '' then
    redis.call('SET', successorKey, sealed, 'PX', grace)
  else
    redis.call('DEL', successorKey)
  end
  return {'rotated', unpack(rec)}
end
if prev == presented then
  local since = now - rotatedAt
  if since <= grace then
    local successor = redis.call('GET', successorKey)
    if successor then return {'grace', successor, unpack(rec)} end
  end
  if since <= raceWindow then return {'race'} end
end
if redis.call('SISMEMBER', usedKey, presented) == 1 then
  redis.call('HSET', familyKey, 'revoked', '1')
  redis.call('PEXPIRE', familyKey, retain)
  redis.call('PEXPIRE', usedKey, retain)
  redis.call('DEL', successorKey)
  return {'reused', unpack(rec)}
end
return {'invalid'}
end`

/** KEYS: family, used hashes, sealed successor. ARGV: see RotateArgs. */
const ROTATE = `${ROTATE_FUNCTION}
return rotate(KEYS[1], KEYS[2], KEYS[3], ARGV)`

/**
 * FamilyStore.rotateRefreshTokenInIpSlot. KEYS: the IP's slot window, then ROTATE's. ARGV:
 * limit, slot TTL s, then ROTATE's. The slot check of TAKE_ATTEMPT_SLOT (SLOT_FUNCTIONS,
 * redis-attempt-counters.ts), then the rotation; a refused outcome is one failure of the window.
 */
const ROTATE_IN_IP_SLOT = `${ROTATE_FUNCTION}${SLOT_FUNCTIONS}
local failures, full = slotState(KEYS[1], tonumber(ARGV[1]))
if full then return {'throttled', failures} end
local out = rotate(KEYS[2], KEYS[3], KEYS[4], {unpack(ARGV, 3)})
if out[1] ~= 'rotated' and out[1] ~= 'grace' then countFailure(KEYS[1], ARGV[2]) end
return out`

/** KEYS: family, used hashes. ARGV: token hash, now. The live family's record, or nothing. */
const FIND = `
local f = redis.call('HMGET', KEYS[1], ${FIELDS}, 'idle', 'head', 'revoked')
local abs, idle, head, revoked = tonumber(f[6]), tonumber(f[8]), f[9], f[10]
local now = tonumber(ARGV[2])
if not f[1] or revoked == '1' or abs <= now or idle <= now then return {} end
local current = head == ARGV[1]
if not current and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return {} end
return {current and '1' or '0', f[1], f[2], f[3], f[4], f[5], f[6], f[7]}`

/** KEYS: family, used hashes, sealed successor. ARGV: retain ms. */
const REVOKE = `
local f = redis.call('HMGET', KEYS[1], ${FIELDS})
if not f[1] then return {} end
redis.call('HSET', KEYS[1], 'revoked', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3])
return f`

/** KEYS: a user's family index. ARGV: family id, ttl ms. The index lives as long as its longest family. */
const INDEX = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end`

/**
 * KEYS: denied jti, family ('' for none), user revoked, generation marker. Returns
 * {denied, family revoked, user revoked at or false, marker or false}: one round trip, and the
 * marker is read after the lists (issue 11's order) within the same atomic step.
 */
const READ_REVOCATIONS = `
local revoked = false
if KEYS[2] ~= '' then revoked = redis.call('HGET', KEYS[2], 'revoked') == '1' end
return {redis.call('EXISTS', KEYS[1]), revoked and 1 or 0, redis.call('GET', KEYS[3]), redis.call('GET', KEYS[4])}`

/** The key of the store generation marker (Store.generationMarker), read with the lists by READ_REVOCATIONS. */
export const generationMarkerKey = (prefix: string) => `${prefix}generation`

interface Scripted {
  sigilFamilyCreate(key: string, ...args: Array<string | number>): Promise<void>
  sigilFamilyRotate(fam: string, used: string, succ: string, ...args: Array<string | number>): Promise<string[]>
  sigilFamilyRotateInSlot(slot: string, fam: string, used: string, succ: string, ...args: Array<string | number>): Promise<string[]>
  sigilFamilyFind(fam: string, used: string, hash: string, nowMs: number): Promise<string[]>
  sigilFamilyRevoke(fam: string, used: string, succ: string, retainMs: number): Promise<string[]>
  sigilUserIndex(key: string, familyId: string, ttlMs: number): Promise<void>
  sigilReadRevocations(denied: string, fam: string, userRevoked: string, marker: string): Promise<[number, number, string | null, string | null]>
}

// A family stored before generations existed has no cgen: '' matches no client, so it is dead.
const toRecord = (familyId: string, f: Array<string | null>): FamilyRecord => ({
  familyId, userId: f[0]!, clientId: f[1]!, scope: f[2] ? f[2].split(' ') : [],
  authTimeSec: Number(f[3]), createdAtMs: Number(f[4]), absoluteExpiresAtMs: Number(f[5]), clientGeneration: f[6] ?? '',
})

/** ROTATE's ARGV. */
const rotateArgs = (a: RotateArgs) => [a.presentedHash, a.nextHash, a.clientId, a.nowMs, a.idleTtlMs,
  a.graceMs, a.successorSealed, a.retainMs, RACE_WINDOW_MS] as const

/** ROTATE's reply as a RotateOutcome. */
function toOutcome(familyId: string, out: string[]): RotateOutcome {
  const kind = out[0] as RotateOutcome['outcome']
  if (kind === 'rotated' || kind === 'reused') return { outcome: kind, family: toRecord(familyId, out.slice(1)) }
  if (kind === 'grace') return { outcome: 'grace', successorSealed: out[1]!, family: toRecord(familyId, out.slice(2)) }
  return { outcome: kind === 'race' ? 'race' : 'invalid' }
}

/** {@link FamilyStore} in Redis: every mutation one Lua script on one slot. */
export function createRedisFamilyStore(redis: RedisClient, prefix: string): FamilyStore {
  redis.defineCommand('sigilFamilyCreate', { numberOfKeys: 1, lua: CREATE })
  redis.defineCommand('sigilFamilyRotate', { numberOfKeys: 3, lua: ROTATE })
  redis.defineCommand('sigilFamilyRotateInSlot', { numberOfKeys: 4, lua: ROTATE_IN_IP_SLOT })
  redis.defineCommand('sigilFamilyFind', { numberOfKeys: 2, lua: FIND })
  redis.defineCommand('sigilFamilyRevoke', { numberOfKeys: 3, lua: REVOKE })
  redis.defineCommand('sigilUserIndex', { numberOfKeys: 1, lua: INDEX })
  redis.defineCommand('sigilReadRevocations', { numberOfKeys: 4, lua: READ_REVOCATIONS })
  const r = redis as unknown as Scripted
  const fam = (id: string) => `${prefix}fam:{${id}}`
  const keys = (id: string) => [fam(id), `${fam(id)}:used`, `${fam(id)}:succ`] as const
  const userIndex = (userId: string) => `${prefix}user-families:{${userId}}`
  const userRevoked = (userId: string) => `${prefix}user-revoked:{${userId}}`
  const denied = (jti: string) => `${prefix}denied-jti:${jti}`

  return {
    createFamily: async (f, headHash, nowMs, idleTtlMs) => {
      const idle = Math.min(nowMs + idleTtlMs, f.absoluteExpiresAtMs)
      await r.sigilFamilyCreate(fam(f.familyId), f.userId, f.clientId, f.scope.join(' '), f.authTimeSec, f.createdAtMs,
        f.absoluteExpiresAtMs, f.clientGeneration, headHash, idle, Math.max(idle - nowMs, 1))
      await r.sigilUserIndex(userIndex(f.userId), f.familyId, Math.max(f.absoluteExpiresAtMs - nowMs, 1))
    },
    rotateRefreshToken: async a => toOutcome(a.familyId, await r.sigilFamilyRotate(...keys(a.familyId), ...rotateArgs(a))),
    findFamilyOfToken: async (familyId, tokenHash, nowMs) => {
      const [fk, uk] = keys(familyId)
      const f = await r.sigilFamilyFind(fk, uk, tokenHash, nowMs)
      return f.length > 0 ? { current: f[0] === '1', family: toRecord(familyId, f.slice(1)) } : null
    },
    revokeFamily: async (familyId, _nowMs, retainMs) => {
      const [fk, uk, sk] = keys(familyId)
      const f = await r.sigilFamilyRevoke(fk, uk, sk, Math.max(retainMs, 1))
      return f.length > 0 && f[0] ? toRecord(familyId, f) : null
    },
    isFamilyRevoked: async familyId => (await redis.hget(fam(familyId), 'revoked')) === '1',
    familiesOfUser: userId => redis.smembers(userIndex(userId)),
    markUserRevoked: async (userId, nowMs, retainMs) => { await redis.set(userRevoked(userId), String(nowMs), 'PX', Math.max(retainMs, 1)) },
    userRevokedAtMs: async userId => {
      const v = await redis.get(userRevoked(userId))
      return v === null ? null : Number(v)
    },
    denyAccessToken: async (jti, expiresAtMs, nowMs) => {
      if (expiresAtMs > nowMs) await redis.set(denied(jti), '1', 'PX', expiresAtMs - nowMs)
    },
    isAccessTokenDenied: async jti => (await redis.exists(denied(jti))) === 1,
    // The keys live on different cluster slots: these scripts only outside a cluster.
    ...(redis.isCluster ? {} : {
      readRevocations: async token => {
        const [isDenied, familyRevoked, userRevokedAt, marker] = await r.sigilReadRevocations(
          denied(token.jti), token.sid === undefined ? '' : fam(token.sid), userRevoked(token.sub), generationMarkerKey(prefix))
        return { denied: isDenied === 1, familyRevoked: familyRevoked === 1, userRevokedAtMs: userRevokedAt === null ? null : Number(userRevokedAt), marker }
      },
      rotateRefreshTokenInIpSlot: async (slot: AttemptSlot, a) => {
        const out = await r.sigilFamilyRotateInSlot(attemptSlotKey(prefix, slot.key, slot.nowMs, slot.windowSec), ...keys(a.familyId),
          slot.limit, attemptSlotTtlSec(slot.windowSec), ...rotateArgs(a))
        return out[0] === 'throttled' ? { outcome: 'throttled', failures: Number(out[1]) } : toOutcome(a.familyId, out)
      },
    } satisfies Pick<FamilyStore, 'readRevocations' | 'rotateRefreshTokenInIpSlot'>),
  }
}
