import type { UserRepo } from './user-repository.js'
import { InsufficientScope, InvalidToken } from '../errors.js'
import type { AccessTokenClaims } from '../tokens/access-token.js'
import { scopedUserClaims } from './user-claims.js'

/**
 * OpenID Connect Core §5.3: the claims about the user behind a verified access token —
 * `sub`, the user's custom claims, and `preferred_username` / `email` as its `profile` /
 * `email` scopes allow. Throws {@link InsufficientScope} without `openid`, and
 * {@link InvalidToken} when the token is not a user's or the user is deleted or disabled.
 */
export async function describeUserinfo(deps: { repo: UserRepo }, token: AccessTokenClaims): Promise<Record<string, unknown>> {
  const scope = token.scope.split(' ')
  if (!scope.includes('openid')) throw new InsufficientScope('openid')
  // client_credentials tokens carry the client as subject: they speak for no user.
  if (token.sub === token.client_id) throw new InvalidToken('the token was issued to a client, not a user')
  const user = await deps.repo.find(token.sub)
  if (!user || user.disabled) throw new InvalidToken(user ? 'user is disabled' : 'user no longer exists')
  return { ...user.claims, sub: user.id, ...scopedUserClaims(user, scope) }
}
