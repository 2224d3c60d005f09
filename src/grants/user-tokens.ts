import type { SigningAlg } from '../config.js'
import { signIdToken } from '../tokens/id-token.js'
import { scopedUserClaims } from '../users/user-claims.js'
import type { User } from '../users/user.js'
import { issueAccessTokenWithId, type GrantDeps, type IssuedTokens, type TokenRequest, type TokenResponse } from './issue.js'

/**
 * What a user granted a client, and when: what the password, authorization-code and refresh
 * grants (the last continuing a refresh family) hand to {@link issueUserTokens}.
 */
export interface UserGrant {
  user: Pick<User, 'id' | 'username' | 'email' | 'djangoId' | 'isStaff' | 'isSuperuser'>
  scope: string[]
  /** When the user entered their password (epoch seconds): the ID token's `auth_time`. */
  authTimeSec: number
  /** The refresh family the tokens belong to; becomes `sid` in both tokens (README: "its id is the `sid` of its access and ID tokens"). */
  sid?: string
  /** The authorization request's `nonce` (OIDC Core §3.1.2.1), carried into the ID token. */
  nonce?: string
}

/**
 * Issues a user's tokens: the access token (`sub` = user id), and an OpenID Connect ID token
 * for the client when `openid` was granted, signed with the same algorithm as the access token.
 */
export async function issueUserTokens(deps: GrantDeps, req: TokenRequest, grant: UserGrant): Promise<TokenResponse> {
  return (await issueUserTokensWithId(deps, req, grant)).response
}

/** {@link issueUserTokens}, also returning the access token's `jti` and `exp` (the code grant records them). */
export async function issueUserTokensWithId(deps: GrantDeps, req: TokenRequest, grant: UserGrant): Promise<IssuedTokens> {
  const sid = grant.sid === undefined ? {} : { sid: grant.sid }
  const issued = await issueAccessTokenWithId(deps, req, { sub: grant.user.id, scope: grant.scope, user: grant.user, ...sid })
  const response = issued.response
  if (!grant.scope.includes('openid')) return issued
  const alg: SigningAlg = req.client.signingAlg ?? deps.config.signingAlg
  const idToken = await signIdToken(deps, {
    sub: grant.user.id,
    clientId: req.client.clientId,
    alg,
    ttlSec: response.expires_in,
    authTimeSec: grant.authTimeSec,
    userClaims: scopedUserClaims(grant.user, grant.scope),
    ...sid,
    ...(grant.nonce === undefined ? {} : { nonce: grant.nonce }),
  })
  return { ...issued, response: { ...response, id_token: idToken } }
}
