import type { JWK } from 'jose'
import type { SigningAlg } from '../config.js'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { KeyState } from '../generated/prisma/enums.js'
import { isUniqueViolation } from './unique-violation.js'

export type { KeyState }

export interface SigningKeyRow {
  kid: string
  alg: SigningAlg
  state: KeyState
  publicJwk: JWK
  /** Present only where asked for and not erased. */
  privateKeyEnc: Buffer | null
  createdAt: Date
  activatedAt: Date | null
  retiringAt: Date | null
  retireAfter: Date | null
  retiredAt: Date | null
  revokedAt: Date | null
}

export interface NewKeyRow { kid: string; alg: SigningAlg; publicJwk: JWK; privateKeyEnc: Buffer; createdAt: Date }

/** Thrown inside a transaction when another instance changed the keys first. */
export class LostRace extends Error {}

/** Storage of signing keys. Every multi-row change is one transaction guarded by conditional updates. */
export interface SigningKeyRepo {
  /** Every key ever made, newest first, without private material. */
  listAll(): Promise<SigningKeyRow[]>
  /** next, current and retiring keys; private material only for current ones. */
  listPublished(): Promise<SigningKeyRow[]>
  /** Inserts keys as given states in one transaction; false if another instance already made them. */
  insertInitial(rows: Array<NewKeyRow & { state: 'current' | 'next' }>, now: Date): Promise<boolean>
  /** Adds a `next` key for an algorithm that has none; false if one appeared meanwhile. */
  insertNext(row: NewKeyRow): Promise<boolean>
  /**
   * current → retiring (published until `retireAfter`), next → current, `newNext` → next, atomically.
   * Returns false, changing nothing, if the current or next key is no longer the one expected.
   */
  rotate(args: { currentKid: string; nextKid: string; newNext: NewKeyRow; now: Date; retireAfter: Date }): Promise<boolean>
  /**
   * Marks a key revoked and erases its private half. If it was `current`, `promoteKid` (the next
   * key) becomes current; `newNext` replaces a consumed or revoked next. Returns the state the
   * key had, or null if there is no such key or it was already retired or revoked.
   */
  revoke(args: { kid: string; now: Date; promoteKid?: string; newNext?: NewKeyRow }): Promise<KeyState | null>
  /** retiring → retired where `retireAfter <= now`, erasing private material. Returns the kids retired. */
  retireExpired(now: Date): Promise<string[]>
}

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
