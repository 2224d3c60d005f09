import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TEST_KEK } from './config.js'
import { ADMIN } from './app.js'
import { freePort } from './server.js'
import { sleep } from './clock.js'

export interface ServiceProcess {
  url: string
  port: number
  /** The management listener (/metrics, /healthz, /readyz) on 127.0.0.1. */
  managementUrl: string
  child: ChildProcess
  output(): string
  /** SIGTERM (unless it has exited), then its exit code. */
  stop(): Promise<number | null>
  /** Its exit code, once it has exited. */
  exited: Promise<number | null>
}

export interface SpawnOptions {
  /** More arguments after `serve`, e.g. `['--workers', '2']`. */
  args?: string[]
  /** Listen on this port (to start an instance again where it was); default: a free one. */
  port?: number
  /** Working directory (where the embedded defaults write data/ and keys/); default: this one. */
  cwd?: string
  /** Start under this umask (octal string, e.g. '000'), as a shell would. */
  umask?: string
  /** Another version's src/cli.ts (an older release checked out elsewhere); default: this tree's. */
  cli?: string
}

/** node with `argv`, under `umask` if given; `exec` keeps the pid, so signals reach node itself, not a shell. */
function nodeCommand(argv: string[], umask: string | undefined): [string, string[]] {
  return umask === undefined ? [process.execPath, argv] : ['/bin/sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, ...argv]]
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const STAMP = join(ROOT, 'dist', '.test-build-sources')

/** A digest of what the build reads: src/ (the generated Prisma client included) and the tsconfigs. */
function sourcesDigest(): string {
  const hash = createHash('sha256')
  const files = readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: true })
    .filter(e => e.isFile()).map(e => join(e.parentPath, e.name)).sort()
  for (const file of [...files, join(ROOT, 'tsconfig.json'), join(ROOT, 'tsconfig.build.json')]) {
    hash.update(file).update('\0').update(readFileSync(file)).update('\0')
  }
  return hash.digest('hex')
}

let built: string | undefined

/**
 * dist/cli.js, built from the current src/ once per test run (issue 15): a TypeScript loader per
 * CLI call cost seconds each. The first test process that needs it builds (`tsc -p
 * tsconfig.build.json`, emit only: `npm test` type-checks first) under a lock while the others
 * wait; a dist/ older than any source is rebuilt, so no test runs code other than src/'s.
 */
export function builtCli(): string {
  if (built) return built
  const digest = sourcesDigest()
  const fresh = () => existsSync(STAMP) && readFileSync(STAMP, 'utf8') === digest
  const lock = join(tmpdir(), `sigil-test-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 16)}.lock`)
  const deadline = Date.now() + 180_000
  while (!fresh()) {
    try {
      mkdirSync(lock)
    } catch {
      // Another test process is building: wait for it (a lock older than 3 minutes is a dead builder's).
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true })
      if (Date.now() > deadline) throw new Error('dist/ was not built within 3 minutes')
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200)
      continue
    }
    try {
      if (fresh()) break
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
      const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noCheck'], { cwd: ROOT, encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`building dist/ failed: ${r.stdout}${r.stderr}`)
      writeFileSync(STAMP, digest)
    } finally {
      rmSync(lock, { recursive: true, force: true })
    }
  }
  return (built = join(ROOT, 'dist', 'cli.js'))
}

/** Runs the built CLI (dist/cli.js, see {@link builtCli}) from any working directory. */
export const cliArgs = (): string[] => [builtCli()]

/**
 * Runs `sigil serve` as its own process (the built CLI) and waits until
 * /readyz answers 200 and the management listener (on a free port) is up. Stopped with SIGTERM at teardown.
 */
export async function spawnService(t: { teardown(fn: () => unknown): void }, env: Record<string, string>, opts: SpawnOptions = {}): Promise<ServiceProcess> {
  const port = opts.port ?? await freePort()
  const managementPort = await freePort()
  // Another version's sources run through tsx, straight from its src/.
  const cli = opts.cli === undefined ? cliArgs() : ['--import', import.meta.resolve('tsx'), opts.cli]
  const [file, args] = nodeCommand([...cli, 'serve', ...(opts.args ?? [])], opts.umask)
  const child = spawn(file, args, {
    cwd: opts.cwd,
    env: {
      ...process.env, SIGIL_KEK: TEST_KEK, SIGIL_ADMIN_CLIENT_ID: ADMIN.clientId, SIGIL_ADMIN_CLIENT_SECRET: ADMIN.clientSecret,
      HOST: '127.0.0.1', PORT: String(port), MANAGEMENT_PORT: String(managementPort), LOG_LEVEL: 'warn', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', d => { output += d })
  child.stderr!.on('data', d => { output += d })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM')
    return exited
  }
  t.teardown(stop)
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${output}`)
    if (Date.now() > deadline) throw new Error(`service not ready after 60 s: ${output}`)
    const ok = (u: string) => fetch(u).then(r => r.ok, () => false)
    const ready = await ok(`${url}/readyz`) && await ok(`http://127.0.0.1:${managementPort}/healthz`)
    if (ready) return { url, port, managementUrl: `http://127.0.0.1:${managementPort}`, child, output: () => output, stop, exited }
    await sleep(200)
  }
}

/**
 * Runs one `sigil …` command (the built CLI) to its end in `cwd` on the embedded defaults unless
 * `env` says otherwise; `umask` as for {@link spawnService}. Never throws for a failing command.
 */
export function runCli(cwd: string, args: string[], opts: { env?: Record<string, string>; umask?: string; timeoutMs?: number } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const [file, fileArgs] = nodeCommand([...cliArgs(), ...args], opts.umask)
  const child = spawn(file, fileArgs, {
    cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 60_000,
    env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', SIGIL_KEK: TEST_KEK, LOG_LEVEL: 'warn', ...opts.env },
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', d => { stdout += d })
  child.stderr!.on('data', d => { stderr += d })
  return new Promise(resolve => child.on('close', status => resolve({ status, stdout, stderr })))
}
