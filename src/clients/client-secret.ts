import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Client secrets are generated with 256 bits of entropy (or supplied, at least 32 characters),
 * so a keyed fast hash is enough: nobody can search that space, and without the HMAC key a
 * stolen table is useless. A slow password hash here would cap client_credentials near
 * 80 requests/s per core.
 */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url')
}

export function hashClientSecret(key: Buffer, secret: string): string {
  return 'hmac-sha256$' + createHmac('sha256', key).update(secret).digest('base64url')
}

/** Constant-time check of `secret` against a stored hash; false for a null or foreign hash. */
export function verifyClientSecret(key: Buffer, secret: string, stored: string | null): boolean {
  const actual = Buffer.from(hashClientSecret(key, secret))
  // Compare against something of the same length even when there is nothing to compare with.
  const expected = Buffer.from(stored ?? '')
  if (expected.length !== actual.length) {
    timingSafeEqual(actual, actual)
    return false
  }
  return timingSafeEqual(actual, expected)
}
