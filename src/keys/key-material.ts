import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import type { SigningAlg } from '../config.js'

/** The members a published JWK may carry (RFC 7517); everything else is dropped. */
const PUBLIC_MEMBERS = ['kty', 'kid', 'use', 'alg', 'crv', 'x', 'y', 'n', 'e'] as const

export interface NewKeyMaterial {
  kid: string
  alg: SigningAlg
  publicJwk: JWK
  privateJwk: JWK
}

/**
 * Makes a fresh key pair: P-256 for ES256, 2048-bit RSA for RS256. The kid is the RFC 7638
 * thumbprint, so it is stable and says nothing but which key it is.
 */
export async function generateKeyMaterial(alg: SigningAlg): Promise<NewKeyMaterial> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 })
  const pub = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(pub, 'sha256')
  return {
    kid,
    alg,
    publicJwk: toPublicJwk({ ...pub, kid, alg, use: 'sig' }),
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg },
  }
}

/** Keeps only public members, whatever the input held. */
export function toPublicJwk(jwk: JWK): JWK {
  const out: JWK = {}
  for (const m of PUBLIC_MEMBERS) if (jwk[m] !== undefined) out[m] = jwk[m]
  return out
}

export async function importKey(jwk: JWK, alg: SigningAlg): Promise<CryptoKey> {
  return (await importJWK(jwk, alg)) as CryptoKey
}
