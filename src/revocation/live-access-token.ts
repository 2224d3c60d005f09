import { isIssuedUnder } from '../clients/client.js'
import { InvalidToken } from '../errors.js'
import { verifyAccessToken, type AccessTokenClaims } from '../tokens/access-token.js'
import type { RevocationDeps } from './token-revocation.js'

/**
 * {@link verifyAccessToken} plus everything that can end a token early: a denylisted token,
 * one from a revoked family, one issued to a user before a logout-everywhere, or one issued
 * under a client generation or store generation no longer current throws {@link InvalidToken}
 * too. The one check for every place Sigil accepts its own access tokens (/userinfo, /admin,
 * introspection, revocation).
 */
export async function verifyLiveAccessToken(deps: RevocationDeps, token: string): Promise<AccessTokenClaims> {
  const claims = await verifyAccessToken(deps, token)
  if (!(await isStillValid(deps, claims))) throw new InvalidToken('revoked')
  return claims
}

/**
 * Issue 11: a token lives no longer than the client registration and the store generation it
 * was issued under (see clients/client.ts `generation`, revocation/store-generation.ts), so
 * deleting or narrowing a client, or a store forgetting its revocations, ends it everywhere.
 * A token without those claims (from before they existed) is treated as from another generation.
 */
async function isStillValid(deps: RevocationDeps, claims: AccessTokenClaims): Promise<boolean> {
  const nowMs = deps.clock.now()
  const [client, revocations] = await Promise.all([deps.findClient(claims.client_id), readRevocations(deps, claims, nowMs)])
  const { denied, familyRevoked, userRevokedAtMs, storeGeneration } = revocations
  const scope = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []
  if (claims.sgen !== storeGeneration || !isIssuedUnder(client, { generation: claims.cgen, scope })) return false
  // Seconds against milliseconds: a token from the very second of a logout-everywhere counts as revoked.
  return !denied && !familyRevoked && (userRevokedAtMs === null || claims.iat * 1000 > userRevokedAtMs)
}

/**
 * The store's lists for the token, then the store generation. The generation is read no
 * earlier than the lists: if they were read empty because the store had just lost its data,
 * the marker read then is gone too, and the token is refused. One store step where the store
 * can read them together (Redis outside a cluster), else the lists at once and the marker after.
 */
async function readRevocations(deps: RevocationDeps, claims: AccessTokenClaims, nowMs: number) {
  const token = { jti: claims.jti, sub: claims.sub, ...(claims.sid === undefined ? {} : { sid: claims.sid }) }
  if (deps.store.readRevocations) {
    const { marker, ...lists } = await deps.store.readRevocations(token, nowMs)
    return { ...lists, storeGeneration: await deps.generation.fromMarker(marker) }
  }
  const [denied, familyRevoked, userRevokedAtMs] = await Promise.all([
    deps.store.isAccessTokenDenied(claims.jti, nowMs),
    claims.sid === undefined ? false : deps.store.isFamilyRevoked(claims.sid, nowMs),
    deps.store.userRevokedAtMs(claims.sub, nowMs),
  ])
  return { denied, familyRevoked, userRevokedAtMs, storeGeneration: await deps.generation.current() }
}
