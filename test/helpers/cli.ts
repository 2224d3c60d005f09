import { spawnSync } from 'node:child_process'
import type { Test } from 'tap'
import { builtCli } from './process.js'

/**
 * Runs the built `sigil …` (dist/cli.js, built once per run) to its end in `cwd`, on the embedded
 * defaults unless `env` says otherwise; `input` is its stdin. Never throws for a failing command.
 */
export function runSigil(cwd: string, args: string[], opts: { env?: Record<string, string>; input?: string } = {}) {
  const r = spawnSync(process.execPath, [builtCli(), ...args], {
    cwd, env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'warn', ...opts.env }, encoding: 'utf8', timeout: 120_000, input: opts.input ?? '',
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) }
}

/** {@link runSigil} with `env` and the arguments spread. */
export const sigil = (cwd: string, env: Record<string, string>, ...args: string[]) => runSigil(cwd, args, { env })

/** The client and key commands, each as the admin API would answer, on the database `env` names. */
export async function exercise(t: Test, cwd: string, env: Record<string, string>) {
  const migrated = sigil(cwd, env, 'migrate')
  t.equal(migrated.status, 0, migrated.stderr)
  const created = sigil(cwd, env, 'clients', 'create', '--auth-method', 'client_secret_basic', '--grant-types', 'client_credentials',
    '--scopes', 'read,write', '--client-id', 'cli-made', '--signing-alg', 'RS256')
  t.equal(created.status, 0, created.stderr)
  t.equal(created.json().client_id, 'cli-made')
  t.ok(created.json().client_secret.length >= 43, 'the generated secret is shown once')
  t.same(sigil(cwd, env, 'clients', 'list').json().clients.map((c: { client_id: string }) => c.client_id), ['cli-made'])
  const dup = sigil(cwd, env, 'clients', 'create', '--auth-method', 'none', '--grant-types', 'password', '--client-id', 'cli-made')
  t.equal(dup.status, 1)
  t.match(dup.stderr, /^sigil: conflict: client_id cli-made is already registered\n$/)
  const updated = sigil(cwd, env, 'clients', 'update', 'cli-made', '--rotate-secret', '--scopes', 'read')
  t.equal(updated.status, 0, updated.stderr)
  t.same(updated.json().scopes, ['read'], 'issue 11: sigil clients update narrows a client')
  t.ok(updated.json().client_secret.length >= 43, 'and shows the rotated secret once')
  t.not(updated.json().client_secret, created.json().client_secret)
  const bad = sigil(cwd, env, 'clients', 'create', '--auth-method', 'magic', '--grant-types', 'password')
  t.equal(bad.status, 1)
  t.match(bad.stderr, /invalid_request: token_endpoint_auth_method/)

  const keys = sigil(cwd, env, 'keys', 'list').json().keys as Array<{ kid: string; alg: string; state: string }>
  t.equal(keys.length, 4, 'a current and a next key per algorithm')
  const young = sigil(cwd, env, 'keys', 'rotate')
  t.equal(young.status, 1)
  t.match(young.stderr, /KEY_LEAD_TIME/)
  const rotated = sigil(cwd, env, 'keys', 'rotate', '--alg', 'RS256', '--force')
  t.equal(rotated.status, 0, rotated.stderr)
  t.equal(rotated.json().current.alg, 'RS256')
  const revoked = sigil(cwd, env, 'keys', 'revoke', rotated.json().retiring.kid)
  t.equal(revoked.status, 0, revoked.stderr)
  t.equal(revoked.json().state, 'revoked')
  t.equal(sigil(cwd, env, 'keys', 'revoke', 'nope').status, 1)
  t.equal(sigil(cwd, env, 'clients', 'delete', 'cli-made').status, 0)
  t.equal(sigil(cwd, env, 'clients', 'delete', 'cli-made').status, 1)
  t.equal(sigil(cwd, env, 'keys', 'rotate', '--alg', 'HS256').status, 1, 'commander refuses a bad --alg')
}
