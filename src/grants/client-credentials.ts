import { isPublicClient } from '../clients/client.js'
import { UnauthorizedClient } from '../errors.js'
import type { GrantParameters } from './parameters.js'
import { issueAccessToken, narrowScope, type GrantDeps, type TokenRequest, type TokenResponse } from './issue.js'

export const grantType = 'client_credentials'
/** RFC 6749 §4.4.2: nothing beyond the optional `scope`. */
export const parameters: GrantParameters = { required: [] }

/** RFC 6749 §4.4: a confidential client acting for itself; no refresh token (§4.4.3). */
export async function handle(req: TokenRequest, deps: GrantDeps): Promise<TokenResponse> {
  if (isPublicClient(req.client)) throw new UnauthorizedClient('public client asked for client_credentials')
  return issueAccessToken(deps, req, { sub: req.client.clientId, scope: narrowScope(req.params.scope, req.client.scopes) })
}
