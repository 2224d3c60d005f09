import { decodeJwt } from 'jose'
import { recordCodeExchange, redeemAuthorizationCode } from '../authorize/authorization-code.js'
import { CODE_VERIFIER } from '../authorize/pkce.js'
import { InvalidGrant, InvalidRequest } from '../errors.js'
import { endFamily, revocationRetentionMs, startFamily, type SessionDeps } from '../refresh/refresh-family.js'
import type { CodeExchange, LoginStore } from '../store/login-ports.js'
import type { UserDeps } from '../users/user-registry.js'
import type { GrantDeps, TokenRequest, TokenResponse } from './issue.js'
import { issueUserTokens } from './user-tokens.js'

export const grantType = 'authorization_code'

export type AuthorizationCodeGrantDeps = GrantDeps & { store: LoginStore; sessions: SessionDeps; users: Pick<UserDeps, 'repo'> }

/**
 * RFC 6749 §4.1.3 with RFC 7636 §4.5: trades a code for the user's tokens. The client was
 * authenticated by the token route (confidential clients must be); the code must be its own,
 * for the same `redirect_uri`, with the matching `code_verifier`. A client registered for
 * refresh tokens starts a family, which joins the browser's login session so logout ends it.
 * A code presented twice is `invalid_grant` and revokes what its first exchange issued.
 */
export async function handle(req: TokenRequest, deps: AuthorizationCodeGrantDeps): Promise<TokenResponse> {
  const code = req.params.code
  const codeVerifier = req.params.code_verifier
  if (code === undefined || code === '') throw new InvalidRequest('code is required')
  if (req.params.redirect_uri === undefined) throw new InvalidRequest('redirect_uri is required')
  if (codeVerifier === undefined || codeVerifier === '') throw new InvalidRequest('code_verifier is required (PKCE)')
  if (!CODE_VERIFIER.test(codeVerifier)) throw new InvalidRequest('code_verifier must be 43-128 unreserved characters (RFC 7636 §4.1)')
  const codeDeps = { store: deps.store, clock: deps.clock, log: req.log }
  const revoke = (issued: CodeExchange) => revokeIssued(deps, issued)
  const granted = await redeemAuthorizationCode(codeDeps, code, {
    clientId: req.client.clientId, redirectUri: req.params.redirect_uri, codeVerifier,
    retainMs: await revocationRetentionMs(deps.sessions), revoke,
  })
  const user = await deps.users.repo.find(granted.userId)
  if (!user || user.disabled) throw new InvalidGrant('the user of this code is deleted or disabled')
  let family: { familyId: string; refreshToken: string } | undefined
  if (req.client.grantTypes.includes('refresh_token')) {
    family = await startFamily(deps.sessions, {
      userId: user.id, clientId: req.client.clientId, clientGeneration: req.client.generation, scope: granted.scope, authTimeSec: granted.authTimeSec,
    })
    await deps.store.addFamilyToLoginSession(granted.loginSessionHash, family.familyId, deps.clock.now())
  }
  const tokens = await issueUserTokens(deps, req, {
    user, scope: granted.scope, authTimeSec: granted.authTimeSec,
    ...(family ? { sid: family.familyId } : {}), ...(granted.nonce === undefined ? {} : { nonce: granted.nonce }),
  })
  // The token was signed just now by us: reading its jti back needs no verification.
  const { jti, exp } = decodeJwt(tokens.access_token) as { jti: string; exp: number }
  await recordCodeExchange(codeDeps, code, { jti, accessExpiresAtMs: exp * 1000, ...(family ? { familyId: family.familyId } : {}) }, revoke)
  return family ? { ...tokens, refresh_token: family.refreshToken } : tokens
}

/** Ends the family and denylists the access token an exchange issued. */
async function revokeIssued(deps: AuthorizationCodeGrantDeps, issued: CodeExchange): Promise<void> {
  if (issued.familyId !== undefined) await endFamily(deps.sessions, issued.familyId)
  await deps.sessions.store.denyAccessToken(issued.jti, issued.accessExpiresAtMs, deps.clock.now())
}
