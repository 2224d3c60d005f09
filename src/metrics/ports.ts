/** How a password login ended (users/login.ts: password grant, SimpleJWT, hosted login page). */
export type LoginOutcome = 'success' | 'failure' | 'throttled' | 'error'

export const LOGIN_OUTCOMES: readonly LoginOutcome[] = ['success', 'failure', 'throttled', 'error']

/**
 * What the domain reports for monitoring. Implemented over prom-client in
 * prometheus-metrics.ts; domain code sees only this port. Every method is synchronous, cheap
 * and never throws, so reporting can never fail a request.
 */
export interface Metrics {
  /** One access token issued through `grantType` (the token endpoint's grant_type). */
  tokenIssued(grantType: string): void
  /** A rotated refresh token came back and its family was revoked (RFC 6819 §5.2.2.3). */
  refreshReuse(): void
  /** The store (Redis) was found to have lost its data: tokens issued before are inactive from now on. */
  storeDataLost(): void
  /** A request refused with 429 by a rate limit; `route` is the route pattern. */
  rateLimited(route: string): void
  /** A password login (any of users/login.ts's callers) finished with `outcome`. */
  loginOutcome(outcome: LoginOutcome): void
}
