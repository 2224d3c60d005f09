import { randomBytes } from 'node:crypto'
import { hash, parseOptions, verify, type Options } from '@node-rs/argon2'
import { djangoHasherOf, verifyDjangoHash } from './django-hash.js'
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
   * answer, always false then, takes as long as a real check. A Django hash (pbkdf2_sha256,
   * pbkdf2_sha1, argon2, bcrypt_sha256, bcrypt) is checked as Django does; an unusable one
   * (`!…`) is false after the dummy hash's cost. Never throws: a corrupt hash is false.
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
      // issue 13: a Django hash as imported, verified as Django does, until the login rehashes it.
      if (stored !== null && djangoHasherOf(stored) !== null) return verifyDjangoHash(stored, password)
      // No user, or an unusable (`!`) or unknown hash: the dummy hash's cost, then false.
      const usable = stored !== null && stored.startsWith('$argon2')
      try {
        const ok = await verify(usable ? stored : dummyHash, normalizePassword(password))
        return usable && ok
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
