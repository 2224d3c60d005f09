import type { Client } from '../clients/client.js'
import { familyIdOf, hashRefreshToken, type FamilyDeps } from '../refresh/refresh-family.js'
import type { TokenDeps } from '../tokens/access-token.js'
import { acceptanceWindowMs } from '../tokens/token-lifetime.js'
import { verifyLiveAccessToken } from './live-access-token.js'

export type RevocationDeps = FamilyDeps & TokenDeps

/**
 * RFC 7009: revokes `token` if it is one of ours and was issued to `client`; anything else is
 * silently ignored (the endpoint answers 200 either way, §2.2). A refresh token ends its
 * whole family; an access token goes on the denylist until it expires. A token already dead
 * by the one check every surface uses ({@link verifyLiveAccessToken}) is left as it is.
 */
export async function revokeToken(deps: RevocationDeps, client: Client, token: string): Promise<void> {
  const nowMs = deps.clock.now()
  const familyId = familyIdOf(token)
  if (familyId) {
    const found = await deps.store.findFamilyOfToken(familyId, hashRefreshToken(token), nowMs)
    if (found?.family.clientId === client.clientId) {
      await deps.store.revokeFamily(familyId, nowMs, await acceptanceWindowMs(deps))
      deps.log.info({ event: 'refresh_token_revoked', family_id: familyId, client_id: client.clientId }, 'family revoked')
    }
    return
  }
  const claims = await verifyLiveAccessToken(deps, token).catch(() => null)
  if (claims?.client_id !== client.clientId) return
  await deps.store.denyAccessToken(claims.jti, claims.exp * 1000, nowMs)
  deps.log.info({ event: 'access_token_revoked', jti: claims.jti, client_id: client.clientId }, 'access token denylisted')
}
