import { randomBytes } from 'node:crypto'
import { hash, parseOptions, verify, type Options } from '@node-rs/argon2'
import { normalizePassword } from './user.js'

/**
 * argon2id at the OWASP Password Storage Cheat Sheet minimum: 19 MiB, 2 passes, 1 lane
 * (about 14 ms per hash on one core). `algorithm: 2` is Argon2id; the package's enum is a
 * const enum that isolated modules cannot read.
 */
export const PASSWORD_HASH_PARAMS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const satisfies Options

/** argon2 version 0x13, as `parseOptions` reports it. */
const CURRENT_VERSION = 1

export interface PasswordHasher {
  /** A PHC string of `password` (NFC) under the current parameters. */
  hash(password: string): Promise<string>
  /**
   * Checks `password` against a stored PHC string, with the parameters the string carries.
   * With `stored` null (no such user) it checks against a dummy hash of the same cost, so the
   * answer, always false then, takes as long as a real check. Never throws: a corrupt hash is false.
   */
  verify(stored: string | null, password: string): Promise<boolean>
  /** True when `stored` was made with weaker parameters than the current ones (or is unreadable). */
  needsRehash(stored: string): boolean
}

/**
 * Makes the hasher, computing its dummy hash once, now (one hash's time), with the current
 * parameters: a login for an unknown user costs exactly what one for a real user does.
 */
export async function createPasswordHasher(): Promise<PasswordHasher> {
  const dummyHash = await hash(randomBytes(32), PASSWORD_HASH_PARAMS)
  return {
    hash: password => hash(normalizePassword(password), PASSWORD_HASH_PARAMS),
    verify: async (stored, password) => {
      try {
        const ok = await verify(stored ?? dummyHash, normalizePassword(password))
        return stored !== null && ok
      } catch {
        return false
      }
    },
    needsRehash: stored => {
      try {
        const o = parseOptions(stored)
        return o.algorithm !== PASSWORD_HASH_PARAMS.algorithm || o.version !== CURRENT_VERSION ||
          o.memoryCost < PASSWORD_HASH_PARAMS.memoryCost || o.timeCost < PASSWORD_HASH_PARAMS.timeCost
      } catch {
        return true
      }
    },
  }
}
