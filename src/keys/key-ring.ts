import { createHash, createPrivateKey, KeyObject, type JsonWebKey } from 'node:crypto'
import type { CryptoKey, JWK } from 'jose'
import { SIGNING_ALGS, type SigningAlg } from '../config.js'
import type { SigningKeyRepo, SigningKeyRow } from './signing-key-repository.js'
import type { Kek } from './kek.js'
import { importKey, toPublicJwk } from './key-material.js'
import type { JwsSigningKey, JwsVerificationKey } from '../tokens/jws.js'

/** The current key of an algorithm, as a KeyObject (see tokens/jws.ts). */
export type SigningKey = JwsSigningKey
/** A published key: as a CryptoKey (for jose) and, made once, as a KeyObject for `crypto.verify` (tokens/jws.ts). */
export interface VerificationKey { kid: string; alg: SigningAlg; publicKey: CryptoKey; jws: JwsVerificationKey }
/** A key set as served: the JSON text, the same as UTF-8 bytes (sent as they are), and its strong ETag. */
export interface JwksDocument { body: string; bytes: Buffer; etag: string }

/**
 * The keys of this instance, in memory and ready: KeyObjects for signing (current), CryptoKeys and
 * KeyObjects for verifying (next, current, retiring), and the JWKS bodies with their ETags. Nothing here
 * touches the database or decrypts per request; {@link KeyRing.reload} rebuilds it when the
 * set of keys changed.
 */
export class KeyRing {
  private fingerprint = ''
  private signing = new Map<SigningAlg, SigningKey>()
  private verifying = new Map<string, VerificationKey>()
  private documents = new Map<SigningAlg | 'all', JwksDocument>()

  constructor(private readonly repo: SigningKeyRepo, private readonly kek: Kek) {}

  /** The current key of `alg`, or undefined when there is none (readiness fails then). */
  signingKey(alg: SigningAlg): SigningKey | undefined {
    return this.signing.get(alg)
  }

  /** A published key by kid; undefined for unknown, retired or revoked kids. */
  verificationKey(kid: string): VerificationKey | undefined {
    return this.verifying.get(kid)
  }

  /** The JWKS, whole or for one algorithm, serialised once per key change. */
  jwks(alg?: SigningAlg): JwksDocument {
    return this.documents.get(alg ?? 'all') ?? emptyDocument
  }

  /**
   * Re-reads the published keys; rebuilds only if their kids or states changed, and imports
   * only keys not already held. Throws if a current key cannot be decrypted (wrong KEK).
   */
  async reload(): Promise<void> {
    const rows = await this.repo.listPublished()
    const fingerprint = rows.map(r => `${r.kid}:${r.state}`).join(',')
    if (fingerprint === this.fingerprint) return
    const verifying = new Map<string, VerificationKey>()
    const signing = new Map<SigningAlg, SigningKey>()
    for (const row of rows) {
      const held = this.verifying.get(row.kid)
      verifying.set(row.kid, held ?? await importVerificationKey(row))
      if (row.state === 'current') signing.set(row.alg, await this.importSigningKey(row))
    }
    const documents = new Map<SigningAlg | 'all', JwksDocument>([['all', toDocument(rows)]])
    for (const alg of SIGNING_ALGS) documents.set(alg, toDocument(rows.filter(r => r.alg === alg)))
    this.verifying = verifying
    this.signing = signing
    this.documents = documents
    this.fingerprint = fingerprint
  }

  private async importSigningKey(row: SigningKeyRow): Promise<SigningKey> {
    const held = this.signing.get(row.alg)
    if (held?.kid === row.kid) return held
    if (!row.privateKeyEnc) throw new Error(`current key ${row.kid} has no private key`)
    let jwk: JWK
    try {
      jwk = JSON.parse(this.kek.open(row.privateKeyEnc, row.kid).toString('utf8')) as JWK
    } catch {
      throw new Error(`cannot decrypt signing key ${row.kid}: SIGIL_KEK is not the key it was stored with`)
    }
    return { kid: row.kid, alg: row.alg, privateKey: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }) }
  }
}

const emptyDocument = toDocument([])

function toDocument(rows: SigningKeyRow[]): JwksDocument {
  // Newest first: a verifier that tries keys in order meets the current ones early.
  const keys = [...rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).map(r => toPublicJwk(r.publicJwk))
  const body = JSON.stringify({ keys })
  return { body, bytes: Buffer.from(body), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }
}

async function importVerificationKey(row: SigningKeyRow): Promise<VerificationKey> {
  const publicKey = await importKey(row.publicJwk, row.alg)
  return { kid: row.kid, alg: row.alg, publicKey, jws: { alg: row.alg, publicKey: KeyObject.from(publicKey as Parameters<typeof KeyObject.from>[0]) } }
}
