import type { SigningAlg } from '../config.js'
import { signIdToken } from '../tokens/id-token.js'
import { scopedUserClaims } from '../users/user-claims.js'
import type { User } from '../users/user.js'
import { issueAccessToken, type GrantDeps, type TokenRequest, type TokenResponse } from './issue.js'

/**
 * A session of a user through a client: what the password grant (and a refresh grant, which
 * continues a session) hands to {@link issueUserTokens}.
 */
export interface UserSession {
  user: Pick<User, 'id' | 'username' | 'email' | 'djangoId' | 'isStaff' | 'isSuperuser'>
  scope: string[]
  /** When the user entered their password (epoch seconds): the ID token's `auth_time`. */
  authTimeSec: number
  /** The refresh family the tokens belong to; becomes `sid` in both tokens (API.md "Tokens"). */
  sid?: string
  /** The authorization request's `nonce` (OIDC Core §3.1.2.1), carried into the ID token. */
  nonce?: string
}

/**
 * Issues a user's tokens: the access token (`sub` = user id), and an OpenID Connect ID token
 * for the client when `openid` was granted, signed with the same algorithm as the access token.
 */
export async function issueUserTokens(deps: GrantDeps, req: TokenRequest, session: UserSession): Promise<TokenResponse> {
  const sid = session.sid === undefined ? {} : { sid: session.sid }
  const response = await issueAccessToken(deps, req, { sub: session.user.id, scope: session.scope, user: session.user, ...sid })
  if (!session.scope.includes('openid')) return response
  const alg: SigningAlg = req.client.signingAlg ?? deps.config.signingAlg
  const idToken = await signIdToken(deps, {
    sub: session.user.id,
    clientId: req.client.clientId,
    alg,
    ttlSec: response.expires_in,
    authTimeSec: session.authTimeSec,
    userClaims: scopedUserClaims(session.user, session.scope),
    ...sid,
    ...(session.nonce === undefined ? {} : { nonce: session.nonce }),
  })
  return { ...response, id_token: idToken }
}
