/**
 * client_credentials throughput against a listening server.
 *   node --import tsx bench/client-credentials.ts [--connections 10] [--duration 10] [--alg ES256] [--workers 1]
 * Uses the embedded defaults unless DATABASE_URL / REDIS_URL are set (needed for --workers above 1).
 */
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { adminToken, startSigil } from './serve.js'

const { values } = parseArgs({
  options: { connections: { type: 'string', default: '10' }, duration: { type: 'string', default: '10' }, alg: { type: 'string', default: 'ES256' }, port: { type: 'string', default: '3901' }, workers: { type: 'string', default: '1' } },
})

const sigil = await startSigil(Number(values.port), {}, { workers: Number(values.workers) })
try {
  const secret = 'bench-client-secret-0123456789-0123456789'
  const clientId = `bench-${Date.now()}`
  const created = await fetch(`${sigil.url}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await adminToken(sigil.url)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, client_secret: secret, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], scopes: ['read'], signing_alg: values.alg }),
  })
  if (created.status !== 201) throw new Error(`client: ${created.status} ${await created.text()}`)
  const result = await autocannon({
    url: `${sigil.url}/oauth2/token`,
    method: 'POST',
    connections: Number(values.connections),
    duration: Number(values.duration),
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64') },
    body: 'grant_type=client_credentials&scope=read',
  })
  console.log(JSON.stringify({
    bench: 'client_credentials', alg: values.alg, backend: process.env.DATABASE_URL ? 'postgresql+redis' : 'embedded', workers: Number(values.workers),
    connections: Number(values.connections), duration_s: Number(values.duration),
    requests_per_s: Math.round(result.requests.average), latency_p50_ms: result.latency.p50, latency_p99_ms: result.latency.p99,
    non_2xx: result.non2xx, errors: result.errors,
  }))
} finally {
  sigil.stop()
}
