import { randomUUID } from 'node:crypto'
import type { LoadingCache } from '../cache/loading-cache.js'
import type { UserRepo } from './user-repository.js'
import { Conflict, NotFound } from '../errors.js'
import { parsePayload } from '../payload.js'
import type { PasswordHasher } from './password.js'
import { describeUser, isUserId, userInput, type User } from './user.js'
import { normalizeUsername } from './username.js'

export interface UserDeps {
  repo: UserRepo
  passwords: PasswordHasher
  /** Users by id for the refresh and code grants; evicted on every instance by {@link UserDeps.announce}. */
  cache: LoadingCache<User>
  /** Tells every instance that a user changed, so their caches drop it. */
  announce(userId: string): Promise<void>
}

export type UserDescription = ReturnType<typeof describeUser>

/**
 * Registers a user from an admin payload, validated here before anything is hashed
 * ({@link InvalidRequest} names the bad field). {@link Conflict} when the username, compared
 * in its RFC 8265 UsernameCaseMapped form (width, case and NFC folded), is taken. Returns `{id, username}`.
 */
export async function createUser(deps: UserDeps, payload: unknown): Promise<UserDescription> {
  const input = parsePayload(userInput, payload)
  const user = {
    id: randomUUID(),
    username: input.username,
    // userInput admitted only usernames the profile accepts.
    usernameNormalized: normalizeUsername(input.username)!,
    email: input.email ?? null,
    claims: input.claims ?? {},
    passwordHash: await deps.passwords.hash(input.password),
  }
  if (!(await deps.repo.create(user))) throw new Conflict(`username ${input.username} is already registered`)
  return describeUser(user)
}

/**
 * Deletes a user; their tokens stop working at /userinfo at once, and every instance drops
 * them from its user cache (so no refresh or code redemption finds them). {@link NotFound} for an unknown id.
 */
export async function deleteUser(deps: Pick<UserDeps, 'repo' | 'cache' | 'announce'>, id: string): Promise<void> {
  if (!isUserId(id) || !(await deps.repo.remove(id))) throw new NotFound(`no user ${id}`)
  deps.cache.evict(id)
  await deps.announce(id)
}

/** The user with this id; {@link NotFound} for an unknown one (one that cannot be an id is not looked up). */
export async function getUser(deps: Pick<UserDeps, 'repo'>, id: string): Promise<User> {
  const user = isUserId(id) ? await deps.repo.find(id) : null
  if (!user) throw new NotFound(`no user ${id}`)
  return user
}
