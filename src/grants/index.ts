import { GRANT_TYPES, type GrantType } from '../clients/client.js'
import { UnauthorizedClient, UnsupportedGrantType } from '../errors.js'
import * as authorizationCode from './authorization-code.js'
import * as clientCredentials from './client-credentials.js'
import type { GrantDeps, TokenRequest, TokenResponse } from './issue.js'
import * as password from './password.js'
import * as refreshToken from './refresh-token.js'

export type { GrantDeps, TokenRequest, TokenResponse }

/** What every grant together needs: each handler takes its own part. */
type AllGrantDeps = GrantDeps & password.PasswordGrantDeps & refreshToken.RefreshGrantDeps & authorizationCode.AuthorizationCodeGrantDeps

type Handler = (req: TokenRequest, deps: AllGrantDeps) => Promise<TokenResponse>

/** One handler per grant type in the one list, GRANT_TYPES: the compiler checks none is missing. */
const HANDLERS: Record<GrantType, Handler> = {
  [authorizationCode.grantType]: authorizationCode.handle,
  [clientCredentials.grantType]: clientCredentials.handle,
  [password.grantType]: password.handle,
  [refreshToken.grantType]: refreshToken.handle,
}

export const SUPPORTED_GRANT_TYPES: readonly string[] = GRANT_TYPES

/**
 * Runs the grant named by `grant_type` for an authenticated client. Throws
 * {@link UnsupportedGrantType} for a grant Sigil does not know and {@link UnauthorizedClient}
 * for one the client is not registered for.
 */
export async function runGrant(grantType: string, req: TokenRequest, deps: AllGrantDeps): Promise<TokenResponse> {
  const handler = SUPPORTED_GRANT_TYPES.includes(grantType) ? HANDLERS[grantType as GrantType] : undefined
  if (!handler) throw new UnsupportedGrantType(`grant_type ${grantType}`)
  if (!(req.client.grantTypes as string[]).includes(grantType)) {
    throw new UnauthorizedClient(`client ${req.client.clientId} is not registered for ${grantType}`)
  }
  return handler(req, deps)
}
