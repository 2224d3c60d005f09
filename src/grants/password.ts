import { InvalidRequest } from '../errors.js'
import { startFamily, type FamilyDeps } from '../refresh/refresh-family.js'
import { authenticateUser, type LoginDeps } from '../users/login.js'
import { isOversizedPassword, PASSWORD_MAX_CHARS } from '../users/user.js'
import type { GrantParameters } from './parameters.js'
import { narrowScope, type GrantDeps, type TokenRequest, type TokenResponse } from './issue.js'
import { issueUserTokens } from './user-tokens.js'

export const grantType = 'password'
/** RFC 6749 §4.3.2. */
export const parameters: GrantParameters = { required: ['username', 'password'] }

export type PasswordGrantDeps = GrantDeps & LoginDeps & { families: FamilyDeps }

/**
 * RFC 6749 §4.3: a public or confidential client registered for the grant trades a user's
 * username and password for an access token (`sub` = user id) and, with `openid` granted, an
 * ID token. Parameters and scope are checked before the password is, and an oversized password
 * is refused unhashed. Throws InvalidRequest, InvalidScope, InvalidGrant (same for every failed
 * login) or TooManyRequests.
 */
export async function handle(req: TokenRequest, deps: PasswordGrantDeps): Promise<TokenResponse> {
  // Declared required above: the grant runner checked they are there.
  const username = req.params.username!
  const password = req.params.password!
  if (isOversizedPassword(password)) throw new InvalidRequest(`password must be at most ${PASSWORD_MAX_CHARS} characters`)
  const scope = narrowScope(req.params.scope, req.client.scopes)
  const audit = req.log.child({ client_id: req.client.clientId, ip: req.ip })
  const user = await authenticateUser(deps, { username, password }, audit)
  const authTimeSec = Math.floor(deps.clock.now() / 1000)
  // A client registered for refresh tokens starts a family at login; its id is the tokens' sid.
  if (!req.client.grantTypes.includes('refresh_token')) return issueUserTokens(deps, req, { user, scope, authTimeSec })
  const { familyId, refreshToken } = await startFamily(deps.families, {
    userId: user.id, clientId: req.client.clientId, clientGeneration: req.client.generation, scope, authTimeSec,
  })
  const tokens = await issueUserTokens(deps, req, { user, scope, authTimeSec, sid: familyId })
  return { ...tokens, refresh_token: refreshToken }
}

