import { InvalidGrant } from '../errors.js'
import { endFamily, peekFamily, rotateRefreshToken, type FamilyDeps } from '../refresh/refresh-family.js'
import type { UserDeps } from '../users/user-registry.js'
import type { GrantParameters } from './parameters.js'
import { narrowScope, type GrantDeps, type TokenRequest, type TokenResponse } from './issue.js'
import { issueUserTokens } from './user-tokens.js'

export const grantType = 'refresh_token'
/** RFC 6749 §6. */
export const parameters: GrantParameters = { required: ['refresh_token'] }

export type RefreshGrantDeps = GrantDeps & { families: FamilyDeps; users: Pick<UserDeps, 'cache'> }

/**
 * RFC 6749 §6: trades a refresh token for new tokens in the same family (`sid`), rotating the
 * refresh token. A requested scope may only narrow the family's, and is checked before the
 * token is spent. A deleted or disabled user's family ends here, and so does a family that
 * began under an earlier registration of the client (re-registered, new secret, narrowed).
 * Throws InvalidRequest, InvalidScope or InvalidGrant.
 */
export async function handle(req: TokenRequest, deps: RefreshGrantDeps): Promise<TokenResponse> {
  // Declared required above: the grant runner checked it is there.
  const token = req.params.refresh_token!
  const narrowed = req.params.scope === undefined
    ? undefined
    : narrowScope(req.params.scope, (await peekFamily(deps.families, req.client, token)).scope)
  const { family, refreshToken } = await rotateRefreshToken(deps.families, req.client, token, req.ipSlot)
  const user = await deps.users.cache.get(family.userId)
  if (!user || user.disabled) {
    await endFamily(deps.families, family.familyId)
    throw new InvalidGrant('the user of this family is deleted or disabled')
  }
  const tokens = await issueUserTokens(deps, req, {
    user, scope: narrowed ?? family.scope, authTimeSec: family.authTimeSec, sid: family.familyId,
  })
  return { ...tokens, refresh_token: refreshToken }
}
