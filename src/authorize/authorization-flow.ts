import type { Client } from '../clients/client.js'
import type { Config } from '../config.js'
import { ConsentRequired, LoginRequired, type OAuthError } from '../errors.js'
import type { AuthorizationRequest } from '../store/login-ports.js'
import { issueAuthorizationCode, type CodeDeps } from './authorization-code.js'
import type { LiveLoginSession } from './login-session.js'

export interface FlowDeps extends CodeDeps {
  config: Pick<Config, 'issuer'>
}

/** What the browser is shown next: the login form, the consent page, or the way back to the client. */
export type NextStep =
  | { step: 'login' }
  | { step: 'consent' }
  | { step: 'redirect'; location: string }

/** A remembered consent lasts this long unless revoked (the store needs an expiry for every record). */
const CONSENT_TTL_MS = 400 * 24 * 3600 * 1000

/**
 * Whether the user must enter their password now (OIDC Core §3.1.2.1): no live login session,
 * `prompt=login`, `max_age=0`, or a login older than `max_age`. Pure.
 */
function needsLogin(request: AuthorizationRequest, session: LiveLoginSession | null, nowMs: number): boolean {
  if (!session || request.prompt.includes('login')) return true
  if (request.maxAgeSec === undefined) return false
  return request.maxAgeSec === 0 || Math.floor(nowMs / 1000) - session.record.authTimeSec > request.maxAgeSec
}

/**
 * The next step of an authorization request. With `loggedIn` the user has just entered their
 * password for this request; with `consented`, just allowed it. Throws {@link LoginRequired}
 * or {@link ConsentRequired} for `prompt=none` when the user would have to act.
 */
export async function nextStep(
  deps: FlowDeps, client: Client, request: AuthorizationRequest, session: LiveLoginSession | null,
  opts: { loggedIn?: boolean; consented?: boolean } = {},
): Promise<NextStep> {
  if (!session || (!opts.loggedIn && needsLogin(request, session, deps.clock.now()))) {
    if (request.prompt.includes('none')) throw new LoginRequired('no usable login session')
    return { step: 'login' }
  }
  if (!opts.consented && await needsConsent(deps, client, request, session.record.userId)) {
    if (request.prompt.includes('none')) throw new ConsentRequired(`${client.clientId} lacks the user's consent`)
    return { step: 'consent' }
  }
  const code = await issueAuthorizationCode(deps, request, session)
  deps.log.info({ event: 'authorization_code_issued', client_id: client.clientId, user_id: session.record.userId }, 'authorization code issued')
  return { step: 'redirect', location: authorizationResponse(deps.config.issuer, request, { code }) }
}

/** Third-party clients need the user's consent to every scope asked for; `prompt=consent` asks again. */
async function needsConsent(deps: FlowDeps, client: Client, request: AuthorizationRequest, userId: string): Promise<boolean> {
  if (request.prompt.includes('consent')) return true
  if (client.consent === 'first_party') return false
  const allowed = await deps.store.consentedScopes(userId, client.clientId, deps.clock.now())
  return !request.scope.every(s => allowed.includes(s))
}

/** Remembers the user's consent to the request's scopes for its client. */
export async function rememberConsent(deps: FlowDeps, request: AuthorizationRequest, userId: string): Promise<void> {
  await deps.store.rememberConsent(userId, request.clientId, request.scope, deps.clock.now(), CONSENT_TTL_MS)
}

/** Forgets the consents `userId` gave `clientId`: the consent page is shown again next time. */
export async function revokeConsent(deps: Pick<FlowDeps, 'store' | 'log'>, userId: string, clientId: string): Promise<void> {
  await deps.store.revokeConsent(userId, clientId)
  deps.log.info({ event: 'consent_revoked', user_id: userId, client_id: clientId }, 'consent revoked')
}

/** The error response of RFC 6749 §4.1.2.1 at the redirect URI, with `state` and RFC 9207 `iss`. */
export function errorResponse(issuer: string, request: Pick<AuthorizationRequest, 'redirectUri' | 'state'>, err: OAuthError): string {
  return authorizationResponse(issuer, request, { error: err.error, error_description: err.description })
}

/** RFC 6749 §4.1.2 / RFC 9207: `params`, `state` (exactly as sent) and `iss` added to the redirect URI's query. */
function authorizationResponse(
  issuer: string, request: Pick<AuthorizationRequest, 'redirectUri' | 'state'>, params: Record<string, string>,
): string {
  const url = new URL(request.redirectUri)
  for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value)
  if (request.state !== undefined) url.searchParams.append('state', request.state)
  url.searchParams.append('iss', issuer)
  return url.toString()
}
