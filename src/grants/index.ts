import { GRANT_TYPES, type GrantType } from '../clients/client.js'
import { InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../errors.js'
import * as authorizationCode from './authorization-code.js'
import * as clientCredentials from './client-credentials.js'
import type { GrantDeps, TokenRequest, TokenResponse } from './issue.js'
import { checkParameters, type GrantParameters } from './parameters.js'
import * as password from './password.js'
import * as refreshToken from './refresh-token.js'

export type { GrantDeps, TokenRequest, TokenResponse }

/** What every grant together needs: each handler takes its own part. */
type AllGrantDeps = GrantDeps & password.PasswordGrantDeps & refreshToken.RefreshGrantDeps & authorizationCode.AuthorizationCodeGrantDeps

/** One grant module: its `grant_type`, the parameters it requires, its handler. */
export interface Grant {
  grantType: GrantType
  parameters: GrantParameters
  handle(req: TokenRequest, deps: AllGrantDeps): Promise<TokenResponse>
}

/** One module per grant type of the one list, GRANT_TYPES (clients/client.ts): the compiler checks none is missing. */
const GRANTS: { readonly [G in GrantType]: Grant & { grantType: G } } = {
  [authorizationCode.grantType]: authorizationCode,
  [clientCredentials.grantType]: clientCredentials,
  [password.grantType]: password,
  [refreshToken.grantType]: refreshToken,
}

const isGrantType = (name: string): name is GrantType => (GRANT_TYPES as readonly string[]).includes(name)

/**
 * The grant a `grant_type` names: {@link InvalidRequest} when it is missing or empty,
 * {@link UnsupportedGrantType} for one Sigil does not know. Checked before the client is authenticated.
 */
export function findGrant(grantType: string | undefined): Grant {
  if (grantType === undefined || grantType === '') throw new InvalidRequest('grant_type is required')
  if (!isGrantType(grantType)) throw new UnsupportedGrantType(`grant_type ${grantType}`)
  return GRANTS[grantType]
}

/**
 * Runs `grant` for an authenticated client: {@link UnauthorizedClient} when the client is not
 * registered for it, {@link InvalidRequest} naming a missing required parameter; then the grant's own checks.
 */
export async function runGrant(grant: Grant, req: TokenRequest, deps: AllGrantDeps): Promise<TokenResponse> {
  if (!req.client.grantTypes.includes(grant.grantType)) {
    throw new UnauthorizedClient(`client ${req.client.clientId} is not registered for ${grant.grantType}`)
  }
  checkParameters(req.params, grant.parameters)
  return grant.handle(req, deps)
}
