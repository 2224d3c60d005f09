import { randomUUID } from 'node:crypto'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { DjangoUserRecord, User, UserClaims, UserRepo } from '../users/user-repository.js'
import { insertUnlessTaken, isUniqueViolation } from './unique-violation.js'

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
    create: user => insertUnlessTaken(() => prisma.user.create({ data: { ...user, claims: user.claims as object } })),
    remove: async id => (await prisma.user.deleteMany({ where: { id } })).count === 1,
    replacePasswordHash: async (id, previous, next) => {
      await prisma.user.updateMany({ where: { id, passwordHash: previous }, data: { passwordHash: next } })
    },
    importDjangoUser: record => prisma.$transaction(async tx => {
      const existing = await tx.user.findUnique({ where: { djangoId: record.djangoId } })
      const holder = await tx.user.findUnique({ where: { usernameNormalized: record.usernameNormalized } })
      if (holder && holder.id !== existing?.id) return { reason: 'fields.username: another user holds this username' }
      if (!existing) {
        await tx.user.create({ data: { id: randomUUID(), ...record, passwordHash: record.importedPasswordHash } })
        return 'created'
      }
      const same = (Object.keys(record) as Array<keyof DjangoUserRecord>).every(k => existing[k] === record[k])
      if (same) return 'unchanged'
      const passwordChanged = existing.importedPasswordHash !== record.importedPasswordHash
      await tx.user.update({
        where: { id: existing.id },
        data: { ...record, ...(passwordChanged ? { passwordHash: record.importedPasswordHash } : {}) },
      })
      return 'updated'
    }).catch((err: unknown) => {
      // A concurrent import or registration took the pk or the username first.
      if (isUniqueViolation(err)) return { reason: 'conflicts with a concurrent change' }
      throw err
    }),
  }
}
