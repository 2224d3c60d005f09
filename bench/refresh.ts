/**
 * refresh_token grant throughput against a listening server: every request rotates its
 * connection's refresh token (each connection is one family).
 *   node --import tsx bench/refresh.ts [--connections 10] [--duration 10]
 * Uses the embedded defaults unless DATABASE_URL / REDIS_URL are set (set both for the Redis figure).
 */
import { Agent, request } from 'node:http'
import { parseArgs } from 'node:util'
import { adminToken, startSigil } from './serve.js'

const { values } = parseArgs({
  options: { connections: { type: 'string', default: '10' }, duration: { type: 'string', default: '10' }, port: { type: 'string', default: '3902' } },
})
const connections = Number(values.connections)

const sigil = await startSigil(Number(values.port))
try {
  const admin = { authorization: `Bearer ${await adminToken(sigil.url)}`, 'content-type': 'application/json' }
  const clientId = `bench-app-${Date.now()}`
  const username = `bench-user-${Date.now()}`
  const password = 'bench password that is long enough'
  await fetch(`${sigil.url}/admin/clients`, { method: 'POST', headers: admin, body: JSON.stringify({ client_id: clientId, token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['read'] }) })
  await fetch(`${sigil.url}/admin/users`, { method: 'POST', headers: admin, body: JSON.stringify({ username, password }) })
  const tokens: string[] = []
  for (let i = 0; i < connections; i++) {
    const r = await fetch(`${sigil.url}/oauth2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username, password }) })
    tokens.push(((await r.json()) as { refresh_token: string }).refresh_token)
  }
  // Each connection must send the token its previous response returned, so this loop stands
  // in for autocannon (which prepares a connection's next request before the last response).
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const { port } = new URL(sigil.url)
  const post = (form: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, path: '/oauth2/token', method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) } }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject).end(form)
  })
  const latencies: number[] = []
  let non2xx = 0
  let errors = 0
  const endAt = Date.now() + Number(values.duration) * 1000
  await Promise.all(tokens.map(async first => {
    let token = first
    while (Date.now() < endAt) {
      const started = performance.now()
      try {
        const r = await post(new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: token }).toString())
        const body = JSON.parse(r.body) as { refresh_token?: string }
        latencies.push(performance.now() - started)
        if (r.status === 200 && body.refresh_token) token = body.refresh_token
        else non2xx++
      } catch {
        errors++
      }
    }
  }))
  latencies.sort((a, b) => a - b)
  const pct = (p: number) => Math.round(latencies[Math.floor(latencies.length * p)]! * 10) / 10
  const result = { requests: { average: latencies.length / Number(values.duration) }, latency: { p50: pct(0.5), p99: pct(0.99) }, non2xx, errors }
  console.log(JSON.stringify({
    bench: 'refresh_token', backend: process.env.REDIS_URL ? 'postgresql+redis' : 'embedded', connections, duration_s: Number(values.duration),
    requests_per_s: Math.round(result.requests.average), latency_p50_ms: result.latency.p50, latency_p99_ms: result.latency.p99,
    non_2xx: result.non2xx, errors: result.errors,
  }))
} finally {
  sigil.stop()
}
