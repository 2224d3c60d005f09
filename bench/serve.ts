import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ADMIN = { id: 'bench-admin', secret: 'bench-admin-secret-0123456789-0123456789' }

/**
 * Starts `sigil serve` in its own process, in a scratch directory (so the embedded defaults
 * write their data there), with DATABASE_URL/REDIS_URL passed through when set. Resolves once
 * /readyz answers 200. `workers` above 1 runs `serve --workers N` (needs DATABASE_URL and REDIS_URL).
 */
export async function startSigil(port: number, env: Record<string, string> = {}, opts: { workers?: number } = {}): Promise<{ url: string; stop(): void }> {
  const cwd = mkdtempSync(join(tmpdir(), 'sigil-bench-'))
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
  const child: ChildProcess = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), cli, 'serve', '--migrate', '--workers', String(opts.workers ?? 1)], {
    cwd,
    env: {
      ...process.env, PORT: String(port), HOST: '127.0.0.1', MANAGEMENT_PORT: '0', LOG_LEVEL: 'warn',
      SIGIL_ADMIN_CLIENT_ID: ADMIN.id, SIGIL_ADMIN_CLIENT_SECRET: ADMIN.secret, ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${url}/readyz`).then(r => r.ok, () => false)) {
      return { url, stop: () => { child.kill('SIGTERM'); setTimeout(() => rmSync(cwd, { recursive: true, force: true }), 2000).unref() } }
    }
    await new Promise(r => setTimeout(r, 200))
  }
  child.kill('SIGKILL')
  throw new Error('sigil did not become ready')
}

export async function adminToken(url: string): Promise<string> {
  const r = await fetch(`${url}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }),
    headers: { authorization: 'Basic ' + Buffer.from(`${ADMIN.id}:${ADMIN.secret}`).toString('base64') },
  })
  return ((await r.json()) as { access_token: string }).access_token
}
