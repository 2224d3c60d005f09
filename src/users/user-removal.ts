import { endUserLoginSessions, type LoginSessionDeps } from '../authorize/login-session.js'
import { endUserFamilies, type FamilyDeps } from '../refresh/refresh-family.js'
import { deleteUser, getUser, type UserDeps } from './user-registry.js'

export interface UserRemovalDeps {
  users: Pick<UserDeps, 'repo' | 'cache' | 'announce'>
  families: FamilyDeps
  logins: LoginSessionDeps
}

/** How much a logout everywhere ended. */
export interface EndedSessions { revokedFamilies: number; endedLoginSessions: number }

/**
 * Logout everywhere for an existing user: ends every refresh family and browser login session
 * of theirs, and their access tokens turn inactive at introspection at once. {@link NotFound}
 * (from getUser) for an unknown id, ending nothing.
 */
export async function endUserSessions(deps: UserRemovalDeps, userId: string): Promise<EndedSessions> {
  await getUser(deps.users, userId)
  return endSessionsOf(deps, userId)
}

/**
 * Deletes a user (see deleteUser) and then ends their refresh families and browser login
 * sessions, as {@link endUserSessions}: what the admin API and the CLI do to remove someone.
 * {@link NotFound} for an unknown id, ending nothing.
 */
export async function removeUser(deps: UserRemovalDeps, userId: string): Promise<EndedSessions> {
  await deleteUser(deps.users, userId)
  return endSessionsOf(deps, userId)
}

async function endSessionsOf(deps: UserRemovalDeps, userId: string): Promise<EndedSessions> {
  const revokedFamilies = await endUserFamilies(deps.families, userId)
  return { revokedFamilies, endedLoginSessions: await endUserLoginSessions(deps.logins, userId) }
}
