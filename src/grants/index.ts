import { UnauthorizedClient, UnsupportedGrantType } from '../errors.js'
import * as clientCredentials from './client-credentials.js'
import type { GrantDeps, TokenRequest, TokenResponse } from './issue.js'
import * as password from './password.js'
import * as refreshToken from './refresh-token.js'

export type { GrantDeps, TokenRequest, TokenResponse }

/** What every grant together needs: each handler takes its own part. */
type AllGrantDeps = GrantDeps & password.PasswordGrantDeps & refreshToken.RefreshGrantDeps

type Handler = (req: TokenRequest, deps: AllGrantDeps) => Promise<TokenResponse>

const HANDLERS = new Map<string, Handler>([
  [clientCredentials.grantType, clientCredentials.handle],
  [password.grantType, password.handle],
  [refreshToken.grantType, refreshToken.handle],
])

export const SUPPORTED_GRANT_TYPES = [...HANDLERS.keys()]

/**
 * Runs the grant named by `grant_type` for an authenticated client. Throws
 * {@link UnsupportedGrantType} for a grant Sigil does not know and {@link UnauthorizedClient}
 * for one the client is not registered for.
 */
export async function runGrant(grantType: string, req: TokenRequest, deps: AllGrantDeps): Promise<TokenResponse> {
  const handler = HANDLERS.get(grantType)
  if (!handler) throw new UnsupportedGrantType(`grant_type ${grantType}`)
  if (!(req.client.grantTypes as string[]).includes(grantType)) {
    throw new UnauthorizedClient(`client ${req.client.clientId} is not registered for ${grantType}`)
  }
  return handler(req, deps)
}
