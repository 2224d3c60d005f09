import type { PrismaClient } from '../generated/prisma/client.js'
import type { User, UserClaims } from '../users/user.js'

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
}

export function createUserRepo(prisma: PrismaClient): UserRepo {
  const toUser = (r: Awaited<ReturnType<typeof prisma.user.findFirstOrThrow>>): User => ({
    id: r.id, username: r.username, usernameNormalized: r.usernameNormalized, email: r.email,
    claims: r.claims as UserClaims, passwordHash: r.passwordHash, disabled: r.disabled, createdAt: r.createdAt,
    djangoId: r.djangoId, isStaff: r.isStaff, isSuperuser: r.isSuperuser,
  })
  return {
    find: async id => {
      const r = await prisma.user.findUnique({ where: { id } })
      return r ? toUser(r) : null
    },
    findByUsername: async usernameNormalized => {
      const r = await prisma.user.findUnique({ where: { usernameNormalized } })
      return r ? toUser(r) : null
    },
    create: async user => {
      try {
        await prisma.user.create({ data: { ...user, claims: user.claims as object } })
        return true
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') return false
        throw err
      }
    },
    remove: async id => (await prisma.user.deleteMany({ where: { id } })).count === 1,
    replacePasswordHash: async (id, previous, next) => {
      await prisma.user.updateMany({ where: { id, passwordHash: previous }, data: { passwordHash: next } })
    },
  }
}
