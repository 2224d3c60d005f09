import { familyIdOf, hashRefreshToken, isFamilyOfCurrentClient } from '../refresh/refresh-family.js'
import { verifyLiveAccessToken } from '../revocation/live-access-token.js'
import type { RevocationDeps } from '../revocation/token-revocation.js'

/** RFC 7662 §2.2: `token_type` names an access-token type, so a refresh token's answer has none. */
export type Introspection = { active: false } | ({ active: true; token_type?: 'Bearer' } & Record<string, unknown>)

const INACTIVE: Introspection = Object.freeze({ active: false })

/**
 * RFC 7662: `{active: false}` — and nothing more — for anything not valid now: malformed, bad
 * signature, expired, signed by a revoked key, denylisted, from a revoked family, issued to a
 * user whose tokens were revoked, issued under an earlier registration of its client (deleted,
 * registered again, new secret, narrowed) or before the store lost its data. Never throws for
 * a bad token.
 */
export async function introspectToken(deps: RevocationDeps, token: string): Promise<Introspection> {
  const familyId = familyIdOf(token)
  return familyId ? introspectRefreshToken(deps, familyId, token) : introspectAccessToken(deps, token)
}

async function introspectAccessToken(deps: RevocationDeps, token: string): Promise<Introspection> {
  const claims = await verifyLiveAccessToken(deps, token).catch(() => null)
  if (!claims) return INACTIVE
  return {
    active: true,
    token_type: 'Bearer',
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    ...(claims.sid === undefined ? {} : { sid: claims.sid }),
  }
}

async function introspectRefreshToken(deps: RevocationDeps, familyId: string, token: string): Promise<Introspection> {
  const found = await deps.store.findFamilyOfToken(familyId, hashRefreshToken(token), deps.clock.now())
  if (!found?.current || !(await isFamilyOfCurrentClient(deps, found.family))) return INACTIVE
  const f = found.family
  return {
    active: true,
    scope: f.scope.join(' '),
    client_id: f.clientId,
    sub: f.userId,
    iss: deps.config.issuer,
    exp: Math.floor(f.absoluteExpiresAtMs / 1000),
    iat: Math.floor(f.createdAtMs / 1000),
    sid: f.familyId,
  }
}
