import { familyIdOf, hashRefreshToken, isFamilyOfCurrentClient } from '../refresh/refresh-family.js'
import { verifyAccessToken } from '../tokens/access-token.js'
import type { RevocationDeps } from '../revocation/token-revocation.js'

/**
 * What a token presented where simplejwt expects a refresh token is, in simplejwt's terms:
 * `live` (the current token of a live family of `clientId`), `blacklisted` (rotated already,
 * or its family revoked: simplejwt's blacklist after rotation), `wrong_type` (one of our access
 * tokens, with a good signature) or `invalid` (anything else: garbage, tampered, expired).
 */
export type RefreshTokenState = 'live' | 'blacklisted' | 'wrong_type' | 'invalid'

/**
 * Classifies `token` without using it ({@link RefreshTokenState}). A family ended by expiry
 * reads as `invalid`, one ended by reuse, revocation or logout as `blacklisted` for as long as
 * the store remembers the revocation. Never throws for a bad token.
 */
export async function refreshTokenState(deps: RevocationDeps, clientId: string, token: string): Promise<RefreshTokenState> {
  const familyId = familyIdOf(token)
  if (!familyId) return (await isAccessToken(deps, token)) ? 'wrong_type' : 'invalid'
  const nowMs = deps.clock.now()
  const found = await deps.store.findFamilyOfToken(familyId, hashRefreshToken(token), nowMs)
  if (found) {
    if (found.family.clientId !== clientId) return 'invalid'
    // A family of an earlier registration of the client is dead (issue 11), as if blacklisted.
    return found.current && await isFamilyOfCurrentClient(deps, found.family) ? 'live' : 'blacklisted'
  }
  return (await deps.store.isFamilyRevoked(familyId, nowMs)) ? 'blacklisted' : 'invalid'
}

/** True when `token` carries a good signature of ours as an access token (expired or not is simplejwt's "invalid"). */
async function isAccessToken(deps: RevocationDeps, token: string): Promise<boolean> {
  return verifyAccessToken(deps, token).then(() => true, () => false)
}
