import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeKek, type Config } from '../config.js'
import type { Logger } from '../log.js'
import { assertSecretFilePrivate, ensurePrivateDir } from '../private-files.js'

/**
 * The key-encryption key and the subkeys derived from it (HKDF-SHA-256, one label per use,
 * so no key is used for two purposes).
 */
export interface Kek {
  /** Encrypts with AES-256-GCM; `context` (e.g. the kid) is bound as associated data. */
  seal(plaintext: Buffer, context: string): Buffer
  /** Throws if the ciphertext, its context or the KEK is not the one it was sealed with. */
  open(sealed: Buffer, context: string): Buffer
  /** 32-byte key for HMAC of client secrets. */
  readonly clientSecretKey: Buffer
}

const IV_BYTES = 12
const TAG_BYTES = 16

export function createKek(master: Buffer): Kek {
  const derive = (label: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), label, 32))
  const encKey = derive('sigil signing-key encryption v1')
  return {
    clientSecretKey: derive('sigil client-secret hmac v1'),
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', encKey, iv).setAAD(Buffer.from(context))
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
      return Buffer.concat([iv, cipher.getAuthTag(), body])
    },
    open(sealed, context) {
      const decipher = createDecipheriv('aes-256-gcm', encKey, sealed.subarray(0, IV_BYTES))
        .setAAD(Buffer.from(context))
      decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()])
    },
  }
}

/**
 * Loads the KEK from SIGIL_KEK or SIGIL_KEK_FILE; without either (development), from
 * `keys/kek`, generating it once with mode 0600 in `keys/` (0700). Throws with a one-line
 * reason: a {@link ConfigError} when the file is open to other users (issue 11).
 */
export async function loadKek(config: Pick<Config, 'kek' | 'kekFile' | 'keysDir'>, log: Logger): Promise<Kek> {
  if (config.kek !== undefined) return createKek(decodeKek(config.kek)!)
  if (config.kekFile !== undefined) return createKek(await readKekFile(config.kekFile, 'SIGIL_KEK_FILE'))
  const path = join(config.keysDir, 'kek')
  await ensurePrivateDir(config.keysDir)
  try {
    return createKek(await readKekFile(path, 'development KEK'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  try {
    // 'wx': if another process made it first, use theirs.
    await writeFile(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
    log.warn({ path }, 'generated a development KEK; set SIGIL_KEK or SIGIL_KEK_FILE in production')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  return createKek(await readKekFile(path, 'development KEK'))
}

async function readKekFile(path: string, name: string): Promise<Buffer> {
  await assertSecretFilePrivate(path, name)
  const kek = decodeKek(await readFile(path, 'utf8'))
  if (!kek) throw new Error(`${name}: ${path} must hold 32 bytes, base64 or hex encoded`)
  return kek
}
