import { createHash, pbkdf2, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { verify as verifyArgon2 } from '@node-rs/argon2'
import bcrypt from 'bcryptjs'

const pbkdf2Async = promisify(pbkdf2)

/** The Django hashers whose hashes Sigil verifies (django.contrib.auth.hashers). */
export const DJANGO_HASHERS = ['pbkdf2_sha256', 'pbkdf2_sha1', 'argon2', 'bcrypt_sha256', 'bcrypt'] as const
export type DjangoHasher = (typeof DJANGO_HASHERS)[number]

/** Iterations above this are refused at import: a hostile dump could otherwise make each login cost minutes. */
const PBKDF2_MAX_ITERATIONS = 10_000_000

const PBKDF2 = /^(pbkdf2_sha256|pbkdf2_sha1)\$([1-9][0-9]{0,7})\$([^$]{1,128})\$([A-Za-z0-9+/]{20,88}={0,2})$/
const ARGON2 = /^argon2(\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+)$/
const BCRYPT = /^(bcrypt_sha256|bcrypt)\$(\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53})$/

/**
 * Django's unusable password (`set_unusable_password`): `!` and random text. Such a user
 * never logs in with a password. Pure.
 */
export const isUnusableDjangoHash = (encoded: string) => encoded.startsWith('!')

/**
 * The Django hasher of `encoded` when it is a well-formed hash Sigil can verify, else null
 * (an unusable password, another hasher such as md5, or a malformed one). Pure; never throws.
 */
export function djangoHasherOf(encoded: string): DjangoHasher | null {
  const p = PBKDF2.exec(encoded)
  if (p) return Number(p[2]) <= PBKDF2_MAX_ITERATIONS ? p[1] as DjangoHasher : null
  if (ARGON2.test(encoded)) return 'argon2'
  return (BCRYPT.exec(encoded)?.[1] as DjangoHasher | undefined) ?? null
}

/**
 * Checks `password` against a Django hash exactly as Django's `check_password` does: the
 * password's UTF-8 bytes as given (Django does not normalize), PBKDF2 with the stored
 * iterations and salt, argon2 through the PHC string after the `argon2` prefix, bcrypt on the
 * first 72 bytes (bcrypt_sha256 first takes the hex SHA-256 of the password, so long
 * passwords count in full). Compares in constant time. Resolves false for an unusable,
 * unknown or malformed hash; never throws.
 */
export async function verifyDjangoHash(encoded: string, password: string): Promise<boolean> {
  try {
    const p = PBKDF2.exec(encoded)
    if (p) return await verifyPbkdf2(p[1] === 'pbkdf2_sha1' ? 'sha1' : 'sha256', Number(p[2]), p[3]!, p[4]!, password)
    const a = ARGON2.exec(encoded)
    if (a) return await verifyArgon2(a[1]!, Buffer.from(password, 'utf8'))
    const b = BCRYPT.exec(encoded)
    if (b) {
      const input = b[1] === 'bcrypt_sha256' ? createHash('sha256').update(password, 'utf8').digest('hex') : password
      return await bcrypt.compare(input, b[2]!)
    }
    return false
  } catch {
    return false
  }
}

async function verifyPbkdf2(digest: 'sha1' | 'sha256', iterations: number, salt: string, expected: string, password: string): Promise<boolean> {
  if (iterations > PBKDF2_MAX_ITERATIONS) return false
  const want = Buffer.from(expected, 'base64')
  const keyLen = digest === 'sha1' ? 20 : 32
  const got = await pbkdf2Async(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), iterations, keyLen, digest)
  return want.length === got.length && timingSafeEqual(want, got)
}
