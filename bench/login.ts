/**
 * Password-grant (login) throughput against a listening server, and the argon2id hash time
 * that bounds it.
 *   node --import tsx bench/login.ts [--connections 10] [--duration 10] [--scope read]
 * Uses the embedded defaults unless DATABASE_URL / REDIS_URL are set. Every login succeeds,
 * so no throttle engages (RATE_LIMIT_IP stays as configured: 0, off, by default).
 */
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { createPasswordHasher } from '../src/users/password.js'
import { adminToken, startSigil } from './serve.js'

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '10' }, duration: { type: 'string', default: '10' },
    scope: { type: 'string', default: 'read' }, port: { type: 'string', default: '3902' },
  },
})

/** Median wall time of one hash at the production parameters, on an idle core. */
async function argon2HashMs(samples = 21): Promise<number> {
  const hasher = await createPasswordHasher()
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint()
    await hasher.hash(`bench-password-${i}`)
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  return times.sort((a, b) => a - b)[Math.floor(samples / 2)]!
}

async function adminPost(url: string, token: string, path: string, body: object): Promise<void> {
  const r = await fetch(`${url}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  })
  if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`)
}

const hashMs = await argon2HashMs()
const sigil = await startSigil(Number(values.port))
try {
  const token = await adminToken(sigil.url)
  const clientId = `bench-spa-${Date.now()}`
  const user = { username: `bench-user-${Date.now()}`, password: 'bench password 0123456789' }
  await adminPost(sigil.url, token, '/admin/clients', {
    client_id: clientId, token_endpoint_auth_method: 'none', grant_types: ['password'], scopes: ['openid', 'profile', 'read'],
  })
  await adminPost(sigil.url, token, '/admin/users', user)
  const result = await autocannon({
    url: `${sigil.url}/oauth2/token`,
    method: 'POST',
    connections: Number(values.connections),
    duration: Number(values.duration),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: clientId, ...user, scope: values.scope }).toString(),
  })
  console.log(JSON.stringify({
    bench: 'password', scope: values.scope, backend: process.env.DATABASE_URL ? 'postgresql+redis' : 'embedded',
    connections: Number(values.connections), duration_s: Number(values.duration),
    argon2_hash_ms: Number(hashMs.toFixed(1)),
    requests_per_s: Math.round(result.requests.average), latency_p50_ms: result.latency.p50, latency_p99_ms: result.latency.p99,
    non_2xx: result.non2xx, errors: result.errors,
  }))
} finally {
  sigil.stop()
}
