import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { TEST_KEK } from './config.js'
import { ADMIN } from './app.js'
import { freePort } from './server.js'

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

/** Runs src/cli.ts through tsx from any working directory. */
export const CLI_ARGS = ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('../../src/cli.ts', import.meta.url))]

/**
 * Runs `sigil serve` as its own process (through tsx, straight from src/) and waits until
 * /readyz answers 200 and the management listener (on a free port) is up. Stopped with SIGTERM at teardown.
 */
export async function spawnService(t: { teardown(fn: () => unknown): void }, env: Record<string, string>, opts: SpawnOptions = {}): Promise<ServiceProcess> {
  const port = opts.port ?? await freePort()
  const managementPort = await freePort()
  const cliArgs = opts.cli === undefined ? CLI_ARGS : [...CLI_ARGS.slice(0, -1), opts.cli]
  const [file, args] = nodeCommand([...cliArgs, 'serve', ...(opts.args ?? [])], opts.umask)
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
    await new Promise(r => setTimeout(r, 200))
  }
}

/**
 * Runs one `sigil …` command (through tsx) to its end in `cwd` on the embedded defaults unless
 * `env` says otherwise; `umask` as for {@link spawnService}. Never throws for a failing command.
 */
export function runCli(cwd: string, args: string[], opts: { env?: Record<string, string>; umask?: string; timeoutMs?: number } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const [file, fileArgs] = nodeCommand([...CLI_ARGS, ...args], opts.umask)
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
