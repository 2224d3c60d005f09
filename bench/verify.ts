/**
 * Verifications per second of sigil/verify with a warm JWKS cache against bare jose.jwtVerify
 * with the same key, the same token and the same claim checks.
 *   node --import tsx bench/verify.ts [--alg ES256|RS256] [--rounds 41] [--round-ms 250] [--concurrency 1]
 * Short rounds alternate between the two, so background load hits both alike. Reported: the
 * median rate of each, and the median of the per-round ratios (each pair ran back to back).
 * The issuer is a local HTTP server publishing the key (discovery + JWKS), as Sigil would.
 */
import { createServer } from 'node:http'
import { parseArgs } from 'node:util'
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose'
import { createVerifier } from '../src/verify/index.js'

const { values } = parseArgs({
  options: { alg: { type: 'string', default: 'ES256' }, rounds: { type: 'string', default: '41' }, 'round-ms': { type: 'string', default: '250' }, concurrency: { type: 'string', default: '1' } },
})
const alg = values.alg as 'ES256' | 'RS256'
const rounds = Number(values.rounds)
const roundMs = Number(values['round-ms'])
const concurrency = Number(values.concurrency)
const audience = 'https://api.example'

const { publicKey, privateKey } = await generateKeyPair(alg)
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg, use: 'sig' }
const server = createServer((req, res) => {
  const body = req.url === '/.well-known/openid-configuration' ? { issuer, jwks_uri: `${issuer}/jwks` } : { keys: [jwk] }
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' }).end(JSON.stringify(body))
})
await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`

const now = Math.floor(Date.now() / 1000)
const token = await new SignJWT({ client_id: 'bench', scope: 'orders:read' })
  .setProtectedHeader({ alg, kid: jwk.kid, typ: 'at+jwt' })
  .setIssuer(issuer).setSubject('user-1').setAudience(audience).setIssuedAt(now).setExpirationTime(now + 3600).setJti('bench-jti')
  .sign(privateKey)

const verifier = createVerifier({ issuer, audience, algorithms: [alg], leewaySec: 30 })
const joseOptions = { issuer, audience, algorithms: [alg], typ: 'at+jwt', clockTolerance: 30, requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'] }
const candidates = {
  sigil_verify: () => verifier.verify(token),
  jose_jwtVerify: () => jwtVerify(token, publicKey, joseOptions),
}

/** Operations per second of `fn` over one round, `concurrency` in flight. */
async function round(fn: () => Promise<unknown>): Promise<number> {
  let ops = 0
  const end = performance.now() + roundMs
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      await fn()
      ops++
    }
  }))
  return ops / ((performance.now() - start) / 1000)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const samples: Record<keyof typeof candidates, number[]> = { sigil_verify: [], jose_jwtVerify: [] }
try {
  for (const fn of Object.values(candidates)) for (let i = 0; i < 500; i++) await fn() // warm: JWKS cached, JIT settled
  const ratios: number[] = []
  for (let r = 0; r < rounds; r++) {
    const order = (r % 2 === 0 ? ['sigil_verify', 'jose_jwtVerify'] : ['jose_jwtVerify', 'sigil_verify']) as Array<keyof typeof candidates>
    for (const name of order) samples[name].push(await round(candidates[name]))
    ratios.push(samples.sigil_verify.at(-1)! / samples.jose_jwtVerify.at(-1)!)
  }
  const ratio = median(ratios)
  console.log(JSON.stringify({
    bench: 'verify', alg, rounds, round_ms: roundMs, concurrency,
    sigil_verify_per_s: Math.round(median(samples.sigil_verify)), jose_jwtVerify_per_s: Math.round(median(samples.jose_jwtVerify)),
    ratio: Number(ratio.toFixed(3)), within_10_percent: ratio >= 0.9,
  }))
} finally {
  server.close()
}
