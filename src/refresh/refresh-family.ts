import { createHash, randomBytes } from 'node:crypto'
import { isIssuedUnder, type Client } from '../clients/client.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { InvalidGrant } from '../errors.js'
import type { Kek } from '../keys/kek.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../metrics/ports.js'
import type { StoreGeneration } from '../revocation/store-generation.js'
import type { FamilyRecord, FamilyStore, RotateArgs, RotateOutcome } from '../store/family-ports.js'
import type { IpSlotGate } from '../rate-limit/attempt-limits.js'
import { acceptanceWindowMs } from '../tokens/token-lifetime.js'

export interface FamilyDeps {
  store: FamilyStore
  kek: Kek
  clock: Clock
  log: Logger
  config: Pick<Config, 'refreshTokenTtlSec' | 'refreshIdleTtlSec' | 'refreshReuseGraceSec' | 'clockSkewSec'>
  /** The longest lifetime an access token may have now (seconds): how long revocations must be remembered. */
  maxTokenTtlSec(): Promise<number>
  /** The registered client behind an id (cached; evicted on every instance when it changes), null when none. */
  findClient(clientId: string): Promise<Client | null>
  generation: StoreGeneration
  metrics?: Metrics
}

/** The client a refresh request authenticated as: the family must have begun under this very registration. */
export type FamilyClient = Pick<Client, 'clientId' | 'generation' | 'scopes'>

/** `<family id>.<secret>`: 128-bit id (the access token's `sid`), 256-bit secret. */
const TOKEN_SHAPE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/

export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('base64url')

/** The family id inside a refresh token, or null when the string cannot be one of ours. */
export function familyIdOf(token: string): string | null {
  return TOKEN_SHAPE.exec(token)?.[1] ?? null
}

const newToken = (familyId: string) => `${familyId}.${randomBytes(32).toString('base64url')}`

/**
 * Starts a family (one login) and returns its first refresh token. `clientGeneration` is the
 * generation of the client that authenticated: the family dies when the client's changes.
 */
export async function startFamily(
  deps: FamilyDeps, login: { userId: string; clientId: string; clientGeneration: string; scope: string[]; authTimeSec: number },
): Promise<{ familyId: string; refreshToken: string }> {
  const nowMs = deps.clock.now()
  const familyId = randomBytes(16).toString('base64url')
  const refreshToken = newToken(familyId)
  const record: FamilyRecord = { ...login, familyId, createdAtMs: nowMs, absoluteExpiresAtMs: nowMs + deps.config.refreshTokenTtlSec * 1000 }
  await deps.store.createFamily(record, hashRefreshToken(refreshToken), nowMs, deps.config.refreshIdleTtlSec * 1000)
  return { familyId, refreshToken }
}

/**
 * Issue 11: a family lives only as long as the client registration it began under. One of a
 * client since deleted, registered again, given a new secret or narrowed is dead.
 */
export async function isFamilyOfCurrentClient(deps: Pick<FamilyDeps, 'findClient'>, family: FamilyRecord): Promise<boolean> {
  return isIssuedUnder(await deps.findClient(family.clientId), { generation: family.clientGeneration, scope: family.scope })
}

/**
 * The family of a presented refresh token, without using it (to check a requested scope
 * first). Throws {@link InvalidGrant} unless it is the current token of a live family that
 * began under `client`'s current registration.
 */
export async function peekFamily(deps: FamilyDeps, client: FamilyClient, token: string): Promise<FamilyRecord> {
  const familyId = familyIdOf(token)
  const found = familyId && await deps.store.findFamilyOfToken(familyId, hashRefreshToken(token), deps.clock.now())
  if (!found || found.family.clientId !== client.clientId) throw new InvalidGrant('unknown refresh token or other client')
  await requireSameRegistration(deps, found.family, client)
  return found.family
}

/** Ends a family that began under an earlier registration of its client; throws {@link InvalidGrant} then. */
async function requireSameRegistration(deps: FamilyDeps, family: FamilyRecord, client: FamilyClient): Promise<void> {
  if (isIssuedUnder(client, { generation: family.clientGeneration, scope: family.scope })) return
  await endFamily(deps, family.familyId)
  deps.log.info({ event: 'family_of_changed_client', family_id: family.familyId, client_id: client.clientId },
    'refresh family ended: its client was registered again or changed since it began')
  throw new InvalidGrant('the client was registered again or changed since this family began')
}

/**
 * Rotates a refresh token: returns its family and the successor. Inside REFRESH_REUSE_GRACE a
 * retried request gets the same successor. Throws {@link InvalidGrant} for anything else;
 * a token rotated earlier coming back revokes the whole family, and a family that began under
 * an earlier registration of `client` ends. With `gate` (and a store that can), the IP's
 * failure slots are checked and counted in the rotation's own store step (issue 12).
 */
export async function rotateRefreshToken(
  deps: FamilyDeps, client: FamilyClient, token: string, gate?: IpSlotGate,
): Promise<{ family: FamilyRecord; refreshToken: string }> {
  const rotated = await rotateInStore(deps, client.clientId, token, gate)
  await requireSameRegistration(deps, rotated.family, client)
  return rotated
}

async function rotateInStore(
  deps: FamilyDeps, clientId: string, token: string, gate: IpSlotGate | undefined,
): Promise<{ family: FamilyRecord; refreshToken: string }> {
  const familyId = familyIdOf(token)
  if (!familyId) throw new InvalidGrant('malformed refresh token')
  const nowMs = deps.clock.now()
  const successor = newToken(familyId)
  const graceMs = deps.config.refreshReuseGraceSec * 1000
  const context = `refresh-successor:${familyId}`
  const result = await rotateOnce(deps.store, gate, {
    familyId, presentedHash: hashRefreshToken(token), nextHash: hashRefreshToken(successor), clientId, nowMs,
    idleTtlMs: deps.config.refreshIdleTtlSec * 1000, graceMs,
    // The successor's plaintext is kept only for the grace window, and only encrypted.
    successorSealed: graceMs > 0 ? deps.kek.seal(Buffer.from(successor), context).toString('base64') : '',
    retainMs: await acceptanceWindowMs(deps),
  })
  switch (result.outcome) {
    case 'rotated': return { family: result.family, refreshToken: successor }
    case 'grace': return { family: result.family, refreshToken: deps.kek.open(Buffer.from(result.successorSealed, 'base64'), context).toString() }
    case 'reused':
      deps.metrics?.refreshReuse()
      // RFC 6819 5.2.2.3: a rotated token coming back means it leaked, so end the family.
      deps.log.warn({ event: 'refresh_token_reuse', family_id: familyId, user_id: result.family.userId, client_id: clientId },
        'a rotated refresh token was presented again: family revoked')
      throw new InvalidGrant('refresh token reuse: family revoked')
    case 'race': throw new InvalidGrant('refresh token was just rotated by a concurrent request')
    default: throw new InvalidGrant('unknown, expired or revoked refresh token')
  }
}

/** One rotation in the store, within `gate`'s IP slot check when there is one and the store can. */
async function rotateOnce(store: FamilyStore, gate: IpSlotGate | undefined, args: RotateArgs): Promise<RotateOutcome> {
  if (!gate || !store.rotateRefreshTokenInIpSlot) return store.rotateRefreshToken(args)
  const result = await store.rotateRefreshTokenInIpSlot(gate.slot, args)
  if (result.outcome === 'throttled') return gate.refused(result.failures)
  gate.passed(result.outcome !== 'rotated' && result.outcome !== 'grace')
  return result
}

/** Ends one family; returns false when there was none. */
export async function endFamily(deps: FamilyDeps, familyId: string): Promise<boolean> {
  return (await deps.store.revokeFamily(familyId, deps.clock.now(), await acceptanceWindowMs(deps))) !== null
}

/**
 * Logout everywhere: ends every family of the user and makes every access token issued to
 * them so far inactive at introspection. Returns how many families were ended.
 */
export async function endUserFamilies(deps: FamilyDeps, userId: string): Promise<number> {
  const nowMs = deps.clock.now()
  const retainMs = await acceptanceWindowMs(deps)
  await deps.store.markUserRevoked(userId, nowMs, retainMs)
  const ids = await deps.store.familiesOfUser(userId, nowMs)
  const ended = await Promise.all(ids.map(id => deps.store.revokeFamily(id, nowMs, retainMs)))
  const count = ended.filter(Boolean).length
  deps.log.info({ event: 'user_sessions_revoked', user_id: userId, families: count }, 'ended every refresh family of a user')
  return count
}
