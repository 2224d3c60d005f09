import { importJWK, type CryptoKey, type JWK } from 'jose'
import { AlgorithmNotAllowed, UnknownKey } from './errors.js'
import type { JwksCache } from './jwks-cache.js'

const EC_CURVE_ALG: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }

/**
 * Whether a published key may verify `alg`: its own `alg` when it names one, else what its type
 * and curve allow. An EC key's kid under `alg: RS256` must be refused here, before any import.
 */
function keyFitsAlg(jwk: JWK, alg: string): boolean {
  if (jwk.alg !== undefined) return jwk.alg === alg
  switch (jwk.kty) {
    case 'EC': return jwk.crv !== undefined && EC_CURVE_ALG[jwk.crv] === alg
    case 'RSA': return /^(RS|PS)(256|384|512)$/.test(alg)
    case 'OKP': return jwk.crv === 'Ed25519' && (alg === 'EdDSA' || alg === 'Ed25519')
    default: return false
  }
}

/**
 * Turns a token's `kid` and `alg` into a verification key, chosen only by kid from the issuer's
 * JWKS (never from `jku`, `x5u`, `jwk` or `x5c` headers). Imported keys are kept per JWK object,
 * so a refetched set re-imports and a dropped key is garbage-collected.
 */
export class KeyResolver {
  private imported = new WeakMap<JWK, Map<string, { pending: Promise<CryptoKey>; key?: CryptoKey }>>()

  constructor(private readonly jwks: JwksCache) {}

  /**
   * Throws (or rejects with) {@link UnknownKey} when the kid is not published or its key cannot
   * be imported, {@link AlgorithmNotAllowed} when the key is of another algorithm, and
   * IssuerUnavailable when no key set can be had. Returns the key itself, without a promise,
   * when the set is fresh and the key already imported: the common case costs no await.
   */
  resolve(kid: unknown, alg: string): CryptoKey | Promise<CryptoKey> {
    if (typeof kid !== 'string' || kid === '') throw new UnknownKey('token has no kid')
    const jwk = this.jwks.peek(kid)
    const ready = jwk && keyFitsAlg(jwk, alg) ? this.imported.get(jwk)?.get(alg)?.key : undefined
    return ready ?? this.resolveSlowly(kid, alg)
  }

  private async resolveSlowly(kid: string, alg: string): Promise<CryptoKey> {
    const jwk = await this.jwks.find(kid)
    if (jwk === undefined) throw new UnknownKey(`kid ${kid} is not in the issuer's JWKS`)
    if (!keyFitsAlg(jwk, alg)) throw new AlgorithmNotAllowed(`alg ${alg} does not fit key ${kid} (${jwk.kty} ${jwk.alg ?? jwk.crv ?? ''})`)
    let byAlg = this.imported.get(jwk)
    if (!byAlg) this.imported.set(jwk, byAlg = new Map())
    let entry = byAlg.get(alg)
    if (!entry) {
      const pending = importJWK(jwk, alg) as Promise<CryptoKey>
      const created: { pending: Promise<CryptoKey>; key?: CryptoKey } = { pending }
      entry = created
      byAlg.set(alg, created)
      pending.then(key => { created.key = key }, () => byAlg.delete(alg))
    }
    try {
      return await entry.pending
    } catch (cause) {
      throw new UnknownKey(`key ${kid} cannot be imported for ${alg}`, { cause })
    }
  }
}
