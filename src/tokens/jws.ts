import { sign, type KeyObject } from 'node:crypto'
import type { SigningAlg } from '../config.js'

/** A private key ready to sign: a node KeyObject, so signing is one synchronous call. */
export interface JwsSigningKey { kid: string; alg: SigningAlg; privateKey: KeyObject }

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/**
 * A compact JWS (RFC 7515 §7.1) over `claims` with header `{alg, kid, typ}`. Signs with
 * `crypto.sign` on a KeyObject: synchronous and about twice as fast per token as WebCrypto's
 * thread-pool round trip. ES256 signatures are the raw r‖s form JWS wants (RFC 7518 §3.4),
 * not DER. Never throws for a key the ring holds.
 */
export function signJws(key: JwsSigningKey, typ: string, claims: Record<string, unknown>): string {
  const input = `${encode({ alg: key.alg, kid: key.kid, typ })}.${encode(claims)}`
  const signature = key.alg === 'ES256'
    ? sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
    : sign('sha256', Buffer.from(input), key.privateKey)
  return `${input}.${signature.toString('base64url')}`
}
