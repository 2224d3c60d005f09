import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'

/** The lock file inside the data directory. */
export const LOCK_FILE = 'sigil.lock'

interface Holder { pid: number; host: string; command: string; since: string }

/** Another live process holds the embedded database. The message is the one line an operator sees. */
export class DataDirInUse extends Error {
  override name = 'DataDirInUse'
}

export interface DataDirLock {
  /** Removes the lock file if it is still this process's. Idempotent; also runs at process exit. */
  release(): void
}

/**
 * Takes the embedded database in `dataDir` for this process alone (issue 11: a CLI command next
 * to a running server, or a second server, would each open their own copy of the files, and
 * the two would diverge). The lock file is made complete under a temporary name and then
 * hard-linked into place, which fails atomically if it exists. An existing lock whose process
 * is gone (same host, `kill(pid, 0)` says no such process) is stale and taken over; one from
 * another host (a shared volume) is always taken as held. (Two processes that find the same
 * stale lock at the same instant may both take it over: a crash followed by two starts within
 * a millisecond; not guarded against.)
 * Throws {@link DataDirInUse} naming the holder and what to do instead. Synchronous on purpose:
 * nothing else can interleave between the check and the take-over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE)
  const me: Holder = { pid: process.pid, host: hostname(), command: commandOf(process.argv), since: new Date().toISOString() }
  const tmp = `${path}.${process.pid}`
  writeFileSync(tmp, JSON.stringify(me) + '\n', { mode: 0o600 })
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, path)
        return holdUntilExit(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const holder = readHolder(path)
      if (holder && isAlive(holder)) throw new DataDirInUse(inUseMessage(dataDir, path, holder))
      removeLockFile(path)
    }
    throw new DataDirInUse(`${dataDir} was locked by another process while this one started: try again, or use the admin API`)
  } finally {
    unlinkSync(tmp)
  }
}

function holdUntilExit(path: string): DataDirLock {
  let held = true
  const release = () => {
    if (!held) return
    held = false
    process.off('exit', release)
    if (readHolder(path)?.pid === process.pid) removeLockFile(path)
  }
  process.on('exit', release)
  return { release }
}

/** `sigil users create`, without options (they may carry secrets) or values after them. */
function commandOf(argv: string[]): string {
  const words = argv.slice(2)
  const end = words.findIndex(w => w.startsWith('-'))
  return ['sigil', ...words.slice(0, end === -1 ? 3 : Math.min(end, 3))].join(' ')
}

function readHolder(path: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>
    return typeof h.pid === 'number' && typeof h.host === 'string'
      ? { pid: h.pid, host: h.host, command: String(h.command ?? 'unknown'), since: String(h.since ?? '?') }
      : undefined
  } catch {
    // Unreadable or not ours: treated as stale, like a lock left by a crash mid-write.
    return undefined
  }
}

function isAlive(holder: Holder): boolean {
  if (holder.host !== hostname()) return true
  // Our own pid in a lock we have not taken yet: a previous life of this container (pid 1 again).
  if (holder.pid === process.pid) return false
  try {
    process.kill(holder.pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function removeLockFile(path: string): void {
  try {
    unlinkSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

function inUseMessage(dataDir: string, path: string, h: Holder): string {
  return `${dataDir} is in use by another Sigil process (pid ${h.pid}${h.host !== hostname() ? ` on ${h.host}` : ''}, \`${h.command}\`, since ${h.since}): ` +
    `stop it first, or use the admin API of the running server (POST /admin/users, /admin/clients); if no such process runs, delete ${path}`
}
