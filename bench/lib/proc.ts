import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { openSync, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (`getconf CLK_TCK`, 100 on Linux). */
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/** True when `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** A free loopback port (bound, read and released: the caller binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/**
 * Starts `argv` pinned to `cpus` (taskset execs it: the child's pid is the program's own),
 * stdout and stderr appended to `logFile`.
 */
export function spawnPinned(cpus: string, argv: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; logFile: string }): ChildProcess {
  const out = openSync(opts.logFile, 'a')
  const child = spawn('taskset', ['-c', cpus, ...argv], { env: opts.env, cwd: opts.cwd, stdio: ['ignore', out, out] })
  child.on('error', () => {})
  return child
}

/**
 * Resolves once `url` answers `ok`; rejects after `timeoutMs`, or when `child` exits first,
 * with the end of its `logFile`.
 */
export async function waitReady(url: string, child: ChildProcess, logFile: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  const tail = () => readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join('\n')
  while (Date.now() < end) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${url}: the server exited (${child.exitCode ?? child.signalCode}):\n${tail()}`)
    if (await fetch(url).then(r => r.ok, () => false)) return
    await new Promise(r => setTimeout(r, 100))
  }
  throw new Error(`${url}: not ready after ${timeoutMs} ms:\n${tail()}`)
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/** `pid` and every descendant (cluster workers), from the ppid field of /proc/<pid>/stat. */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const fields = statFields(Number(name))
    if (fields) parentOf.set(Number(name), Number(fields[1]))
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child)
  }
  return tree
}

/** The fields of /proc/<pid>/stat after `(comm)`: [0] state, [1] ppid, [11] utime, [12] stime. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** CPU seconds (user + system) used so far by `pid` and its descendants. */
export function cpuSeconds(pid: number): number {
  let ticks = 0
  for (const p of processTree(pid)) {
    const f = statFields(p)
    if (f) ticks += Number(f[11]) + Number(f[12])
  }
  return ticks / CLK_TCK
}

/** Resident set now and its peak (VmRSS, VmHWM), in MiB, summed over `pid` and its descendants. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  let rss = 0
  let peak = 0
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8')
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
    } catch {
      // exited between the listing and the read
    }
  }
  return { rss: Math.round(rss / 1024), peak: Math.round(peak / 1024) }
}

/** Busy and total clock ticks of each CPU in `cpus` (a taskset list like "1" or "0,1"), from /proc/stat. */
export function cpuTicks(cpus: string): { busy: number; total: number } {
  const wanted = new Set(cpus.split(',').flatMap(part => {
    const [a, b] = part.split('-').map(Number)
    return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i)
  }))
  let busy = 0
  let total = 0
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line)
    if (!m || !wanted.has(Number(m[1]))) continue
    const t = m[2]!.trim().split(/\s+/).map(Number)
    const sum = t.slice(0, 8).reduce((x, y) => x + y, 0)
    total += sum
    busy += sum - t[3]! - t[4]!
  }
  return { busy: busy / CLK_TCK, total: total / CLK_TCK }
}
