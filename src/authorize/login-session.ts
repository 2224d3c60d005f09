import { createHash, randomBytes } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Logger } from '../log.js'
import { endFamily, type FamilyDeps } from '../refresh/refresh-family.js'
import type { LoginSessionRecord, LoginStore } from '../store/login-ports.js'

/**
 * Browser login sessions: what the SSO cookie stands for. The cookie holds a 256-bit random
 * id; the store knows only its SHA-256 hash. Distinct from refresh families, which a login
 * session may give birth to (one per authorization code exchanged with a refresh token).
 */
export interface LoginSessionDeps {
  store: LoginStore
  clock: Clock
  log: Logger
  config: Pick<Config, 'loginSessionIdleTtlSec' | 'loginSessionTtlSec'>
  /** Ends the families a session gave birth to. */
  families: FamilyDeps
}

export interface LiveLoginSession { idHash: string; record: LoginSessionRecord }

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/

const hashLoginSessionId = (id: string) => createHash('sha256').update(id).digest('base64url')

/**
 * The live login session behind a cookie value, its idle expiry pushed on; null for no
 * cookie, a malformed one, or an idle, expired or ended session.
 */
export async function findLoginSession(deps: LoginSessionDeps, cookieValue: string | undefined): Promise<LiveLoginSession | null> {
  if (cookieValue === undefined || !COOKIE_VALUE.test(cookieValue)) return null
  const idHash = hashLoginSessionId(cookieValue)
  const record = await deps.store.touchLoginSession(idHash, deps.clock.now(), deps.config.loginSessionIdleTtlSec * 1000)
  return record ? { idHash, record } : null
}

/**
 * Starts a login session for a user who just entered their password, and returns the cookie
 * value. A session the browser already had ends (a new id at every login defeats session
 * fixation); its families move to the new session when the user is the same, and end otherwise.
 */
export async function startLoginSession(
  deps: LoginSessionDeps, userId: string, previous: LiveLoginSession | null,
): Promise<{ cookieValue: string; session: LiveLoginSession }> {
  const nowMs = deps.clock.now()
  const cookieValue = randomBytes(32).toString('base64url')
  const idHash = hashLoginSessionId(cookieValue)
  const record: LoginSessionRecord = {
    userId, authTimeSec: Math.floor(nowMs / 1000), createdAtMs: nowMs, absoluteExpiresAtMs: nowMs + deps.config.loginSessionTtlSec * 1000,
  }
  await deps.store.createLoginSession(idHash, record, nowMs, deps.config.loginSessionIdleTtlSec * 1000)
  if (previous) {
    const ended = await deps.store.endLoginSession(previous.idHash, nowMs)
    for (const familyId of ended?.familyIds ?? []) {
      if (ended!.session.userId === userId) await deps.store.addFamilyToLoginSession(idHash, familyId, nowMs)
      else await endFamily(deps.families, familyId)
    }
  }
  return { cookieValue, session: { idHash, record } }
}

/**
 * Ends every login session of a user (admin "revoke tokens", user deletion), so no browser
 * gets a code for them without the password again. Their families are the caller's to end
 * (endUserFamilies ends every family of the user). Returns how many sessions ended.
 */
export async function endUserLoginSessions(deps: LoginSessionDeps, userId: string): Promise<number> {
  const nowMs = deps.clock.now()
  const hashes = await deps.store.loginSessionsOfUser(userId, nowMs)
  const ended = await Promise.all(hashes.map(h => deps.store.endLoginSession(h, nowMs)))
  return ended.filter(Boolean).length
}

/**
 * Logs a browser out: ends the login session and every refresh family born from it. Returns
 * the ended session's user id, or null when there was no live session.
 */
export async function endLoginSession(deps: LoginSessionDeps, cookieValue: string | undefined): Promise<string | null> {
  if (cookieValue === undefined || !COOKIE_VALUE.test(cookieValue)) return null
  const ended = await deps.store.endLoginSession(hashLoginSessionId(cookieValue), deps.clock.now())
  if (!ended) return null
  await Promise.all(ended.familyIds.map(id => endFamily(deps.families, id)))
  deps.log.info({ event: 'logout', user_id: ended.session.userId, families: ended.familyIds }, 'login session ended')
  return ended.session.userId
}
