import type { JWK } from 'jose'
import type { SigningAlg } from '../config.js'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { KeyState, NewKeyRow, SigningKeyRepo, SigningKeyRow } from '../keys/signing-key-repository.js'
import { isUniqueViolation } from './unique-violation.js'

/** Thrown inside a transaction when another instance changed the keys first. */
class LostRace extends Error {}

const PUBLIC_COLUMNS = {
  kid: true, alg: true, state: true, publicJwk: true, createdAt: true, activatedAt: true,
  retiringAt: true, retireAfter: true, retiredAt: true, revokedAt: true,
} as const

export function createSigningKeyRepo(prisma: PrismaClient): SigningKeyRepo {
  const toRow = (r: Omit<SigningKeyRow, 'privateKeyEnc' | 'alg' | 'publicJwk'> & { alg: string; publicJwk: unknown; privateKeyEnc?: Uint8Array | null }): SigningKeyRow => ({
    ...r,
    alg: r.alg as SigningAlg,
    publicJwk: r.publicJwk as JWK,
    privateKeyEnc: r.privateKeyEnc ? Buffer.from(r.privateKeyEnc) : null,
  })
  const insertData = (row: NewKeyRow, state: KeyState, activatedAt: Date | null = null) => ({
    kid: row.kid, alg: row.alg, state, publicJwk: row.publicJwk as object,
    privateKeyEnc: new Uint8Array(row.privateKeyEnc), createdAt: row.createdAt, activatedAt,
  })
  const guard = async (fn: () => Promise<void>): Promise<boolean> => {
    try {
      await fn()
      return true
    } catch (err) {
      // P2002: the partial unique index (one current and one next per alg) refused a second one.
      if (err instanceof LostRace || isUniqueViolation(err)) return false
      throw err
    }
  }

  return {
    listAll: async () => (await prisma.signingKey.findMany({ select: PUBLIC_COLUMNS, orderBy: { createdAt: 'desc' } })).map(toRow),
    listPublished: async () => {
      const rows = await prisma.signingKey.findMany({
        select: { ...PUBLIC_COLUMNS, privateKeyEnc: true },
        where: { state: { in: ['next', 'current', 'retiring'] } },
        orderBy: { createdAt: 'asc' },
      })
      return rows.map(r => toRow(r.state === 'current' ? r : { ...r, privateKeyEnc: null }))
    },
    insertInitial: (rows, now) => guard(async () => {
      await prisma.$transaction(rows.map(r => prisma.signingKey.create({
        data: insertData(r, r.state, r.state === 'current' ? now : null),
      })))
    }),
    insertNext: row => guard(async () => { await prisma.signingKey.create({ data: insertData(row, 'next') }) }),
    rotate: ({ currentKid, nextKid, newNext, now, retireAfter }) => guard(() => prisma.$transaction(async tx => {
      // Conditional updates: a concurrent rotation holds the row lock, then finds the state moved on.
      const retired = await tx.signingKey.updateMany({
        where: { kid: currentKid, state: 'current' },
        data: { state: 'retiring', retiringAt: now, retireAfter },
      })
      if (retired.count !== 1) throw new LostRace()
      const promoted = await tx.signingKey.updateMany({
        where: { kid: nextKid, state: 'next' },
        data: { state: 'current', activatedAt: now },
      })
      if (promoted.count !== 1) throw new LostRace()
      await tx.signingKey.create({ data: insertData(newNext, 'next') })
    })),
    revoke: async ({ kid, now, promoteKid, newNext }) => {
      return prisma.$transaction(async tx => {
        const key = await tx.signingKey.findUnique({ where: { kid }, select: { state: true } })
        if (!key || key.state === 'retired' || key.state === 'revoked') return null
        const done = await tx.signingKey.updateMany({
          where: { kid, state: key.state },
          data: { state: 'revoked', revokedAt: now, privateKeyEnc: null },
        })
        if (done.count !== 1) return null
        if (key.state === 'current' && promoteKid !== undefined) {
          await tx.signingKey.updateMany({ where: { kid: promoteKid, state: 'next' }, data: { state: 'current', activatedAt: now } })
        }
        if ((key.state === 'current' || key.state === 'next') && newNext) {
          await tx.signingKey.create({ data: insertData(newNext, 'next') })
        }
        return key.state
      })
    },
    retireExpired: async now => {
      const due = await prisma.signingKey.findMany({ where: { state: 'retiring', retireAfter: { lte: now } }, select: { kid: true } })
      if (due.length === 0) return []
      const kids = due.map(k => k.kid)
      await prisma.signingKey.updateMany({
        where: { kid: { in: kids }, state: 'retiring' },
        data: { state: 'retired', retiredAt: now, privateKeyEnc: null },
      })
      return kids
    },
  }
}
