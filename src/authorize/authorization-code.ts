import { createHash, randomBytes } from 'node:crypto'
import type { Clock } from '../clock.js'
import { InvalidGrant } from '../errors.js'
import type { Logger } from '../log.js'
import type { AuthorizationCodeRecord, AuthorizationRequest, CodeExchange, LoginStore } from '../store/login-ports.js'
import type { LiveLoginSession } from './login-session.js'
import { verifierMatches } from './pkce.js'

/** RFC 6749 §4.1.2 recommends at most 10 minutes; the issue asks at most 60 s. */
const CODE_TTL_MS = 60_000

export interface CodeDeps {
  store: LoginStore
  clock: Clock
  log: Logger
}

const hashCode = (code: string) => createHash('sha256').update(code).digest('base64url')

/**
 * Issues a single-use authorization code (256 random bits) for a request the logged-in user
 * approved, bound to the client, redirect URI, PKCE challenge, nonce, scope and login session.
 * Only its hash is stored, for {@link CODE_TTL_MS}.
 */
export async function issueAuthorizationCode(deps: CodeDeps, request: AuthorizationRequest, session: LiveLoginSession): Promise<string> {
  const nowMs = deps.clock.now()
  const code = randomBytes(32).toString('base64url')
  const record: AuthorizationCodeRecord = {
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    scope: request.scope,
    userId: session.record.userId,
    authTimeSec: session.record.authTimeSec,
    loginSessionHash: session.idHash,
    expiresAtMs: nowMs + CODE_TTL_MS,
    ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
  }
  await deps.store.saveAuthorizationCode(hashCode(code), record, nowMs)
  return code
}

export interface Redemption {
  clientId: string
  redirectUri: string | undefined
  codeVerifier: string
  /** How long a used code is remembered so that a replay is caught (and revokes what it issued). */
  retainMs: number
  /** Revokes what an earlier exchange of the code issued (RFC 6749 §4.1.2). */
  revoke(issued: CodeExchange): Promise<void>
}

/**
 * Redeems a code at the token endpoint: atomically consumes it, then checks that it was
 * issued to this client for this redirect URI and that the PKCE verifier matches (RFC 7636
 * §4.6). A second use of a code revokes what the first issued. Throws {@link InvalidGrant}
 * for every failure, the same whatever the cause.
 */
export async function redeemAuthorizationCode(deps: CodeDeps, code: string, r: Redemption): Promise<AuthorizationCodeRecord> {
  const result = await deps.store.consumeAuthorizationCode(hashCode(code), deps.clock.now(), r.retainMs)
  if (result.outcome === 'invalid') throw new InvalidGrant('unknown or expired authorization code')
  if (result.outcome === 'replayed') {
    // RFC 6749 §4.1.2: a code used twice was stolen, or the exchange leaked: revoke what it gave.
    if (result.issued) await r.revoke(result.issued)
    deps.log.warn({ event: 'authorization_code_replay', client_id: result.code.clientId, user_id: result.code.userId,
      family_id: result.issued?.familyId, jti: result.issued?.jti }, 'an authorization code was presented again: its tokens are revoked')
    throw new InvalidGrant('authorization code replayed')
  }
  const record = result.code
  if (record.clientId !== r.clientId) throw new InvalidGrant(`code of client ${record.clientId} presented by ${r.clientId}`)
  if (record.redirectUri !== r.redirectUri) throw new InvalidGrant('redirect_uri differs from the authorization request')
  if (!verifierMatches(r.codeVerifier, record.codeChallenge)) throw new InvalidGrant('code_verifier does not match the challenge')
  return record
}

/**
 * Records what the exchange of `code` issued; if the code was replayed meanwhile, revokes it
 * at once and throws {@link InvalidGrant}.
 */
export async function recordCodeExchange(deps: CodeDeps, code: string, issued: CodeExchange, revoke: Redemption['revoke']): Promise<void> {
  if (await deps.store.recordCodeExchange(hashCode(code), issued) === 'recorded') return
  await revoke(issued)
  throw new InvalidGrant('authorization code replayed during its exchange')
}
