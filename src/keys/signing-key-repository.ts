import type { JWK } from 'jose'
import type { SigningAlg } from '../config.js'

/** A signing key's state (the database's KeyState enum). */
export type KeyState = 'next' | 'current' | 'retiring' | 'retired' | 'revoked'

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
