import { recordCodeExchange, redeemAuthorizationCode } from '../authorize/authorization-code.js'
import { CODE_VERIFIER } from '../authorize/pkce.js'
import { InvalidGrant, InvalidRequest } from '../errors.js'
import { endFamily, startFamily, type FamilyDeps } from '../refresh/refresh-family.js'
import type { Config } from '../config.js'
import { acceptanceWindowMs } from '../tokens/token-lifetime.js'
import type { AuthorizationCodeRecord, CodeExchange, LoginStore } from '../store/login-ports.js'
import type { UserDeps } from '../users/user-registry.js'
import type { GrantDeps, TokenRequest, TokenResponse } from './issue.js'
import type { GrantParameters } from './parameters.js'
import { issueUserTokensWithId } from './user-tokens.js'

export const grantType = 'authorization_code'
/** RFC 6749 §4.1.3; `code_verifier` because every code was asked for with PKCE (RFC 7636 §4.5). */
export const parameters: GrantParameters = { required: ['code', 'redirect_uri', 'code_verifier'] }

export type AuthorizationCodeGrantDeps = GrantDeps & {
  store: LoginStore
  families: FamilyDeps
  users: Pick<UserDeps, 'cache'>
  config: Pick<Config, 'loginSessionIdleTtlSec'>
}

/**
 * RFC 6749 §4.1.3 with RFC 7636 §4.5: trades a code for the user's tokens. The client was
 * authenticated by the token route (confidential clients must be); the code must be its own,
 * for the same `redirect_uri`, with the matching `code_verifier`. A client registered for
 * refresh tokens starts a family, which joins the browser's login session so logout ends it.
 * A code presented twice is `invalid_grant` and revokes what its first exchange issued, and
 * so is a code whose login session was logged out before the exchange.
 */
export async function handle(req: TokenRequest, deps: AuthorizationCodeGrantDeps): Promise<TokenResponse> {
  // Declared required above: the grant runner checked they are there.
  const code = req.params.code!
  const codeVerifier = req.params.code_verifier!
  if (!CODE_VERIFIER.test(codeVerifier)) throw new InvalidRequest('code_verifier must be 43-128 unreserved characters (RFC 7636 §4.1)')
  const codeDeps = { store: deps.store, clock: deps.clock, log: req.log }
  const revoke = (issued: CodeExchange) => revokeIssued(deps, issued)
  const granted = await redeemAuthorizationCode(codeDeps, code, {
    clientId: req.client.clientId, redirectUri: req.params.redirect_uri!, codeVerifier,
    retainMs: await acceptanceWindowMs(deps.families), revoke,
  })
  const user = await deps.users.cache.get(granted.userId)
  if (!user || user.disabled) throw new InvalidGrant('the user of this code is deleted or disabled')
  if (!await deps.store.touchLoginSession(granted.loginSessionHash, deps.clock.now(), deps.config.loginSessionIdleTtlSec * 1000)) {
    throw new InvalidGrant('the login session of this code has ended')
  }
  const family = req.client.grantTypes.includes('refresh_token') ? await startCodeFamily(deps, req, granted) : undefined
  const { response: tokens, jti, exp } = await issueUserTokensWithId(deps, req, {
    user, scope: granted.scope, authTimeSec: granted.authTimeSec,
    ...(family ? { sid: family.familyId } : {}), ...(granted.nonce === undefined ? {} : { nonce: granted.nonce }),
  })
  await recordCodeExchange(codeDeps, code, { jti, accessExpiresAtMs: exp * 1000, ...(family ? { familyId: family.familyId } : {}) }, revoke)
  return family ? { ...tokens, refresh_token: family.refreshToken } : tokens
}

/** A refresh family for the code's login, recorded on its login session (which a concurrent logout may just have ended). */
async function startCodeFamily(deps: AuthorizationCodeGrantDeps, req: TokenRequest, granted: AuthorizationCodeRecord) {
  const family = await startFamily(deps.families, {
    userId: granted.userId, clientId: req.client.clientId, clientGeneration: req.client.generation, scope: granted.scope, authTimeSec: granted.authTimeSec,
  })
  if (await deps.store.addFamilyToLoginSession(granted.loginSessionHash, family.familyId, deps.clock.now())) return family
  await endFamily(deps.families, family.familyId)
  throw new InvalidGrant('the login session of this code ended during the exchange')
}

/** Ends the family and denylists the access token an exchange issued. */
async function revokeIssued(deps: AuthorizationCodeGrantDeps, issued: CodeExchange): Promise<void> {
  if (issued.familyId !== undefined) await endFamily(deps.families, issued.familyId)
  await deps.families.store.denyAccessToken(issued.jti, issued.accessExpiresAtMs, deps.clock.now())
}
