import type { User } from './user.js'

export type { User, UserClaims } from './user.js'

/** A user as `manage.py dumpdata auth.user` describes them (users/django-import.ts). */
export interface DjangoUserRecord {
  djangoId: number
  username: string
  usernameNormalized: string
  email: string | null
  /** Django's hash as dumped ('!' when unusable). */
  importedPasswordHash: string
  disabled: boolean
  isStaff: boolean
  isSuperuser: boolean
  firstName: string
  lastName: string
}

export type ImportOutcome = 'created' | 'updated' | 'unchanged' | { reason: string }

export type NewUser = Omit<User, 'createdAt' | 'disabled' | 'djangoId' | 'isStaff' | 'isSuperuser'>

/** Storage of users. */
export interface UserRepo {
  /** null when there is no such user. */
  find(id: string): Promise<User | null>
  /** By the normalized username; null when there is no such user. */
  findByUsername(usernameNormalized: string): Promise<User | null>
  /** Returns false, storing nothing, when the normalized username is taken. */
  create(user: NewUser): Promise<boolean>
  /** Returns false when there was no such user. */
  remove(id: string): Promise<boolean>
  /** Replaces the password hash, but only if it is still `previous` (a concurrent change wins). */
  replacePasswordHash(id: string, previous: string, next: string): Promise<void>
  /**
   * Creates or updates the user with `record.djangoId`, in one transaction. The password hash
   * is set only on creation or when `importedPasswordHash` differs from the one last imported.
   * Returns `unchanged` when nothing differs, a reason when another user holds the username.
   */
  importDjangoUser(record: DjangoUserRecord): Promise<ImportOutcome>
}
