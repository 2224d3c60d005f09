import { InvalidGrant, TooManyRequests } from '../errors.js'
import type { Logger } from '../log.js'
import type { LoginOutcome, Metrics } from '../metrics/ports.js'
import { admitLoginAttempt, forgetLoginAttempts, type AttemptLimitDeps } from '../rate-limit/attempt-limits.js'
import type { UserDeps } from './user-registry.js'
import type { User } from './user.js'
import { normalizeUsername } from './username.js'

export interface LoginDeps extends AttemptLimitDeps {
  users: UserDeps
  metrics: Pick<Metrics, 'loginOutcome'>
}

/**
 * Checks a username and password (RFC 6749 §4.3.2) and returns the user; the username is
 * matched in its RFC 8265 UsernameCaseMapped form, and one the profile refuses is an
 * {@link InvalidGrant} at once. An unknown user, a
 * wrong password and a disabled user are one {@link InvalidGrant} after the same work (one
 * argon2 verification, against a dummy hash when there is no user), so neither the answer nor
 * its timing tells who exists; only the log says which. Throws TooManyRequests while the
 * username backs off (RATE_LIMIT_USER_FAILURES). On success the username's failures are
 * forgiven and a hash made with weaker parameters is replaced. Writes one `login` audit line
 * to `audit` (user id when known, never the password or the username) and counts the outcome
 * in `deps.metrics`: success, failure (InvalidGrant), throttled (TooManyRequests) or error.
 */
export async function authenticateUser(
  deps: LoginDeps, credentials: { username: string; password: string }, audit: Logger,
): Promise<User> {
  try {
    const user = await checkCredentials(deps, credentials, audit)
    deps.metrics.loginOutcome('success')
    return user
  } catch (err) {
    deps.metrics.loginOutcome(outcomeOf(err))
    throw err
  }
}

function outcomeOf(err: unknown): LoginOutcome {
  if (err instanceof InvalidGrant) return 'failure'
  return err instanceof TooManyRequests ? 'throttled' : 'error'
}

async function checkCredentials(
  deps: LoginDeps, credentials: { username: string; password: string }, audit: Logger,
): Promise<User> {
  const normalized = normalizeUsername(credentials.username)
  if (normalized === null) {
    // No user can have it: refused unlooked-up and unhashed (nothing to hide: the profile is public).
    audit.info({ event: 'login', outcome: 'failure', reason: 'malformed username' }, 'login failed')
    throw new InvalidGrant('malformed username')
  }
  // Looked up before the attempt is counted: a database that cannot answer (503) is not the
  // user's failed attempt, or an outage would put every user who retries into back-off.
  const user = await deps.users.repo.findByUsername(normalized)
  try {
    await admitLoginAttempt(deps, normalized)
  } catch (err) {
    audit.info({ event: 'login', outcome: 'throttled' }, 'login refused: too many attempts')
    throw err
  }
  const ok = await deps.users.passwords.verify(user?.passwordHash ?? null, credentials.password)
  if (!user || !ok || user.disabled) {
    const reason = !user ? 'unknown user' : !ok ? 'wrong password' : 'disabled user'
    audit.info({ event: 'login', outcome: 'failure', reason, user_id: user?.id }, 'login failed')
    throw new InvalidGrant(reason)
  }
  await forgetLoginAttempts(deps, normalized)
  await upgradeHash(deps.users, user, credentials.password, audit)
  audit.info({ event: 'login', outcome: 'success', user_id: user.id }, 'login succeeded')
  return user
}

/** Re-hashes with the current parameters while the password is at hand; a failure only costs the upgrade. */
async function upgradeHash(deps: UserDeps, user: User, password: string, audit: Logger): Promise<void> {
  if (!deps.passwords.needsRehash(user.passwordHash)) return
  try {
    await deps.repo.replacePasswordHash(user.id, user.passwordHash, await deps.passwords.hash(password))
    audit.info({ event: 'password_rehashed', user_id: user.id }, 'password hash upgraded to current parameters')
  } catch (err) {
    audit.warn({ err, user_id: user.id }, 'password hash upgrade failed')
  }
}
