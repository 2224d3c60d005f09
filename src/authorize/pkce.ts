import { createHash, timingSafeEqual } from 'node:crypto'

/** RFC 7636 §4.1: 43-128 characters of the unreserved set. */
export const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/

/** RFC 7636 §4.6, S256: BASE64URL(SHA256(ASCII(verifier))) equals the challenge. Pure; constant time. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'))
  const expected = Buffer.from(challenge)
  return computed.length === expected.length && timingSafeEqual(computed, expected)
}
