import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AUDIENCE, CC_CLIENTS, FORM, LOGIN_CLIENT, REFRESH_CLIENT, SCOPE, USERS, basic } from './fixtures.js'
import { freePort, processTree, spawnPinned, waitReady } from './proc.js'

export const ADMIN = { id: 'bench-admin', secret: 'bench-admin-secret-0123456789-0123456789' }
export const SIGIL_CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

export interface Server { name: string; url: string; child: ChildProcess; logFile: string }

/**
 * Starts Sigil as users do — `node dist/cli.js serve --migrate` (run `npm run build` first),
 * default configuration and LOG_LEVEL (any LOG_LEVEL in the environment is dropped), its
 * output appended to a log file — pinned to `cpus`, in a scratch directory (the dev KEK is
 * written there), on PostgreSQL and Redis, with the bench admin client. Resolves once
 * /readyz answers 200. `nodeArgs` go to node before the script (e.g. --cpu-prof).
 */
export async function startSigil(o: { cpus: string; workers: number; databaseUrl: string; redisUrl: string; name?: string; cwd?: string; nodeArgs?: string[] }): Promise<Server & { cwd: string }> {
  if (!existsSync(SIGIL_CLI)) throw new Error(`${SIGIL_CLI} is missing: run \`npm run build\` first (\`npm run bench\` does)`)
  // Instances on one database share the directory: the dev KEK in keys/ sealed its signing keys.
  const cwd = o.cwd ?? mkdtempSync(join(tmpdir(), 'sigil-bench-'))
  const name = o.name ?? 'sigil'
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: o.databaseUrl, REDIS_URL: o.redisUrl,
    // Several instances run side by side: each takes a free management port.
    MANAGEMENT_PORT: '0',
    SIGIL_ADMIN_CLIENT_ID: ADMIN.id, SIGIL_ADMIN_CLIENT_SECRET: ADMIN.secret,
  }
  delete env.LOG_LEVEL
  const logFile = join(cwd, `${name}.log`)
  const child = spawnPinned(o.cpus, [process.execPath, ...(o.nodeArgs ?? []), SIGIL_CLI, 'serve', '--migrate', '--workers', String(o.workers)], { env, cwd, logFile })
  const url = `http://127.0.0.1:${port}`
  await waitReady(`${url}/readyz`, child, logFile)
  if (o.workers > 1) await waitWorkers(child.pid!, o.workers)
  return { name, url, child, logFile, cwd }
}

/** With workers, /readyz answers once the first listens: wait until all are forked, then for them to start. */
async function waitWorkers(pid: number, workers: number): Promise<void> {
  const end = Date.now() + 60_000
  while (processTree(pid).length < workers + 1 && Date.now() < end) await new Promise(r => setTimeout(r, 100))
  await new Promise(r => setTimeout(r, 3000))
}

async function adminToken(url: string): Promise<string> {
  const r = await fetch(`${url}/oauth2/token`, { method: 'POST', headers: { ...FORM, authorization: basic(ADMIN) }, body: 'grant_type=client_credentials&scope=admin' })
  if (!r.ok) throw new Error(`admin token: ${r.status} ${await r.text()}`)
  return ((await r.json()) as { access_token: string }).access_token
}

/**
 * Registers the bench clients and user (a 409, from an earlier start on the same database,
 * is fine): the two client_credentials clients, a public password client, a public
 * password + refresh_token client.
 */
export async function setUpSigil(url: string): Promise<void> {
  const token = await adminToken(url)
  const post = async (path: string, body: object) => {
    const r = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (r.status !== 201 && r.status !== 409) throw new Error(`${path}: ${r.status} ${await r.text()}`)
  }
  for (const [alg, c] of Object.entries(CC_CLIENTS)) {
    await post('/admin/clients', {
      client_id: c.id, client_secret: c.secret, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'],
      scopes: [SCOPE], audience: [AUDIENCE], signing_alg: alg,
    })
  }
  await post('/admin/clients', { client_id: LOGIN_CLIENT, token_endpoint_auth_method: 'none', grant_types: ['password'], scopes: [SCOPE], audience: [AUDIENCE] })
  await post('/admin/clients', { client_id: REFRESH_CLIENT, token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: [SCOPE], audience: [AUDIENCE] })
  for (const user of USERS) await post('/admin/users', user)
}

/** `n` fresh refresh tokens (one password login each, round the users, so `n` families). */
export async function sigilRefreshTokens(url: string, n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    const body = new URLSearchParams({ grant_type: 'password', client_id: REFRESH_CLIENT, ...USERS[i % USERS.length]!, scope: SCOPE }).toString()
    const r = await fetch(`${url}/oauth2/token`, { method: 'POST', headers: FORM, body })
    const json = (await r.json()) as { refresh_token?: string }
    if (!json.refresh_token) throw new Error(`sigil login: ${r.status} ${JSON.stringify(json)}`)
    return json.refresh_token
  }))
}

/**
 * Starts one of the reference servers of bench/servers/ (`bare` or `oidc-provider`) pinned to
 * `cpus`; resolves once `readyPath` answers.
 */
export async function startReference(kind: 'bare' | 'oidc-provider', o: { cpus: string; redisUrl: string; readyPath: string; logDir: string }): Promise<Server> {
  const port = await freePort()
  const script = fileURLToPath(new URL(`../servers/${kind}.ts`, import.meta.url))
  const logFile = join(o.logDir, `${kind}.log`)
  const child = spawnPinned(o.cpus, [process.execPath, '--import', import.meta.resolve('tsx'), script], { env: { ...process.env, PORT: String(port), REDIS_URL: o.redisUrl }, logFile })
  const url = `http://127.0.0.1:${port}`
  await waitReady(`${url}${o.readyPath}`, child, logFile)
  return { name: kind, url, child, logFile }
}
