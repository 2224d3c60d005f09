import type { User } from './user.js'

/**
 * The claims about a user that granted scopes release (OpenID Connect Core §5.4):
 * `preferred_username` with `profile`, `email` with `email` (when the user has one).
 * Shared by the ID token and /userinfo. Pure.
 */
export function scopedUserClaims(user: Pick<User, 'username' | 'email'>, scope: readonly string[]): Record<string, string> {
  const claims: Record<string, string> = {}
  if (scope.includes('profile')) claims.preferred_username = user.username
  if (scope.includes('email') && user.email !== null) claims.email = user.email
  return claims
}
