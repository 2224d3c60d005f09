import { chmodSync, lstatSync, readdirSync } from 'node:fs'
import { chmod, mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from './config.js'

const DIR_MODE = 0o700
const FILE_MODE = 0o600

/**
 * Creates `path` (and missing parents) if needed and makes it 0700 whatever the umask; an
 * existing directory is tightened too.
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: DIR_MODE })
  await chmod(path, DIR_MODE)
}

/**
 * Makes every directory under `root` (and `root`) 0700 and every regular file 0600. Symbolic
 * links are neither followed nor changed. Returns how many modes it changed. Synchronous: it
 * runs once at start over about a thousand files, where one promise per file costs far more
 * than the system calls.
 */
export function makeTreePrivate(root: string): number {
  let changed = 0
  const visit = (path: string): void => {
    const st = lstatSync(path)
    const wanted = st.isDirectory() ? DIR_MODE : st.isFile() ? FILE_MODE : undefined
    if (wanted === undefined) return
    if ((st.mode & 0o777) !== wanted) {
      chmodSync(path, wanted)
      changed++
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name))
  }
  visit(root)
  return changed
}

/**
 * Refuses a secret file that others may read or write, or its group may write, with a
 * {@link ConfigError} naming `variable`. Group read stays allowed: Kubernetes mounts Secret
 * files as root:fsGroup 0440, readable by the service through its group only.
 */
export async function assertSecretFilePrivate(path: string, variable: string): Promise<void> {
  const mode = (await stat(path)).mode & 0o777
  if ((mode & 0o027) !== 0) {
    throw new ConfigError(`${variable}: ${path} is open to ${mode & 0o007 ? 'other users' : 'its group for writing'} (mode 0${mode.toString(8)}): chmod 600 ${path}`)
  }
}
