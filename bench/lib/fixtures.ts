/** The clients and user every server under test is given, so each does the same work per request. */

export const AUDIENCE = 'https://api.bench.example'
export const SCOPE = 'read'

/** Confidential clients, client_secret_basic, client_credentials; one per signing algorithm. */
export const CC_CLIENTS = {
  ES256: { id: 'bench-cc-es256', secret: 'bench-cc-es256-secret-0123456789-0123456789' },
  RS256: { id: 'bench-cc-rs256', secret: 'bench-cc-rs256-secret-0123456789-0123456789' },
} as const

/** Public client (`none`) for the password grant; the refresh client also has refresh_token. */
export const LOGIN_CLIENT = 'bench-login'
export const REFRESH_CLIENT = 'bench-refresh'

/**
 * Users of the password grant. Several: Sigil counts every login attempt of a username until
 * one succeeds, so more than RATE_LIMIT_USER_FAILURES (10) concurrent logins of one user are
 * throttled. Logins go round the users, as real traffic would.
 */
export const USERS = Array.from({ length: 24 }, (_, i) => ({ username: `bench-user-${i}`, password: 'bench password 0123456789' }))

export const basic = (c: { id: string; secret: string }) => 'Basic ' + Buffer.from(`${c.id}:${c.secret}`).toString('base64')

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
