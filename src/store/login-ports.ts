/**
 * What the authorization code flow keeps in the store: pending authorization requests
 * ("interactions"), authorization codes, browser login sessions (the SSO cookie's server side)
 * and remembered consents. Codes and login-session ids are secrets: only their SHA-256
 * hashes are keys. Every record expires by itself; times are epoch ms from the caller's
 * clock, which adapters check expiry against (their own TTLs are only a backstop).
 */
export interface LoginStore {
  /** Stores a pending authorization request under `interactionId` for `ttlMs`. */
  saveInteraction(interactionId: string, record: InteractionRecord, nowMs: number, ttlMs: number): Promise<void>
  /** The pending request, or null when unknown or expired. */
  findInteraction(interactionId: string, nowMs: number): Promise<InteractionRecord | null>
  /** Forgets a pending request (it completed or was refused). */
  deleteInteraction(interactionId: string): Promise<void>

  /** Stores a fresh, unused code (by hash) valid until `record.expiresAtMs`. */
  saveAuthorizationCode(codeHash: string, record: AuthorizationCodeRecord, nowMs: number): Promise<void>
  /**
   * Atomic, one step in the store: the first use of an unexpired code returns `consumed`;
   * any later use returns `replayed` with what the first exchange issued (as far as it has
   * recorded it) and marks the code replayed. A used code is remembered for `retainMs` so a
   * replay is recognised. Unknown or expired unused code: `invalid`. Never throws on bad input.
   */
  consumeAuthorizationCode(codeHash: string, nowMs: number, retainMs: number): Promise<ConsumeOutcome>
  /**
   * Atomic: records on a consumed code what its exchange issued, and returns whether the code
   * was replayed meanwhile (then the caller must revoke what it just issued).
   */
  recordCodeExchange(codeHash: string, issued: CodeExchange): Promise<'recorded' | 'replayed'>

  /** Stores a new login session under the hash of its cookie value, idle after `idleTtlMs`. */
  createLoginSession(idHash: string, record: LoginSessionRecord, nowMs: number, idleTtlMs: number): Promise<void>
  /**
   * Atomic: the live login session (neither idle past `idleTtlMs` nor past its absolute
   * expiry), with its idle expiry pushed to `nowMs + idleTtlMs`; null otherwise.
   */
  touchLoginSession(idHash: string, nowMs: number, idleTtlMs: number): Promise<LoginSessionRecord | null>
  /**
   * Atomic: records a refresh family born from the session, so logging out ends it. Returns
   * false, recording nothing, when the session is gone.
   */
  addFamilyToLoginSession(idHash: string, familyId: string, nowMs: number): Promise<boolean>
  /** Atomic: removes the session and returns its record and families; null when there was none. */
  endLoginSession(idHash: string, nowMs: number): Promise<{ session: LoginSessionRecord; familyIds: string[] } | null>
  /** Hashes of the login sessions started for a user (some may have ended since). */
  loginSessionsOfUser(userId: string, nowMs: number): Promise<string[]>

  /** Remembers that `userId` allowed `clientId` these scopes (added to earlier ones) for `ttlMs`. */
  rememberConsent(userId: string, clientId: string, scope: readonly string[], nowMs: number, ttlMs: number): Promise<void>
  /** The scopes `userId` has allowed `clientId`; empty when none. */
  consentedScopes(userId: string, clientId: string, nowMs: number): Promise<string[]>
  /** Forgets every scope `userId` allowed `clientId`. */
  revokeConsent(userId: string, clientId: string): Promise<void>
}

/** A validated authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1). */
export interface AuthorizationRequest {
  clientId: string
  redirectUri: string
  scope: string[]
  state?: string
  nonce?: string
  /** S256 challenge (RFC 7636): base64url of SHA-256 of the verifier. */
  codeChallenge: string
  prompt: Array<'none' | 'login' | 'consent'>
  maxAgeSec?: number
  loginHint?: string
}

export interface InteractionRecord {
  request: AuthorizationRequest
  /** SHA-256 of the CSRF cookie of the browser that started it: the form post must come from there. */
  csrfHash: string
  /** Set once the user is known: the consent step then needs the same user's login session. */
  userId?: string
}

export interface AuthorizationCodeRecord {
  clientId: string
  redirectUri: string
  codeChallenge: string
  nonce?: string
  scope: string[]
  userId: string
  authTimeSec: number
  /** Hash of the login session's cookie value, so families born from the code join it. */
  loginSessionHash: string
  expiresAtMs: number
}

/** What an exchange of a code issued: revoked if the code comes back. */
export interface CodeExchange {
  familyId?: string
  jti: string
  accessExpiresAtMs: number
}

export type ConsumeOutcome =
  | { outcome: 'consumed'; code: AuthorizationCodeRecord }
  | { outcome: 'replayed'; code: AuthorizationCodeRecord; issued?: CodeExchange }
  | { outcome: 'invalid' }

export interface LoginSessionRecord {
  userId: string
  /** When the user entered their password (epoch seconds): `auth_time`. */
  authTimeSec: number
  createdAtMs: number
  absoluteExpiresAtMs: number
}
