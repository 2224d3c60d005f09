import { join } from 'node:path'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import t from 'tap'
import { createVerifier } from '../../src/verify/index.js'
import { backends } from '../helpers/backends.js'
import { pythonForInterop, startLineProcess, type LineProcess } from '../helpers/python.js'
import { startTestServer } from '../helpers/server.js'
import { countRequests, sigilHttp } from '../helpers/sigil-http.js'

const AUDIENCE = 'https://orders.example'
const PYJWT_SCRIPT = join(import.meta.dirname, 'pyjwt_verify.py')
type PyResult = { ok: true; claims: Record<string, unknown> } | { ok: false; error: string; pyjwt_error: boolean; message: string }

/**
 * Our tokens against three independent verifiers, each caching the JWKS as it does in
 * production: jose's createRemoteJWKSet, PyJWT's PyJWKClient, and sigil/verify. Each is warmed
 * before a key rotation and must accept tokens from before and after it without fetching the
 * JWKS again, because the key that starts signing was already published as `next`.
 */
const { python, skip: noPython } = pythonForInterop(['jwt', 'cryptography'])

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, issuer } = await startTestServer(t, backend)
    const jwksHits = countRequests(app, '/.well-known/jwks.json')
    const sigil = sigilHttp(issuer)
    if (noPython) t.comment(`PyJWT is left out: ${noPython}`)

    for (const alg of ['ES256', 'RS256'] as const) {
      t.test(`${alg}: jose, PyJWT and sigil/verify accept tokens from before and after a rotation`, async t => {
        const client = { client_id: `svc-${alg}`, client_secret: `svc-${alg}-secret-0123456789-0123456789` }
        await sigil.createClient({ ...client, scopes: ['orders:read'], audience: AUDIENCE, signing_alg: alg })
        const joseKeys = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`))
        const sigilVerifier = createVerifier({ issuer, audience: AUDIENCE, requiredScopes: ['orders:read'] })
        let py: LineProcess | undefined
        if (python) {
          py = startLineProcess(t, python, [PYJWT_SCRIPT])
          const ready = await py.ask(JSON.stringify({ jwks_uri: `${issuer}/.well-known/jwks.json?alg=${alg}`, issuer, audience: AUDIENCE, algorithms: [alg] }))
          t.comment(`PyJWT ${(JSON.parse(ready) as { pyjwt: string }).pyjwt}`)
        }
        const verifyAll = async (token: string, label: string) => {
          const viaJose = await jwtVerify(token, joseKeys, { issuer, audience: AUDIENCE, typ: 'at+jwt', algorithms: [alg] })
          t.equal(viaJose.payload.client_id, client.client_id, `${label}: jose`)
          t.equal((await sigilVerifier.verify(token)).client_id, client.client_id, `${label}: sigil/verify`)
          if (py) {
            const r = JSON.parse(await py.ask(token)) as PyResult
            t.same(r.ok ? r.claims.client_id : r, client.client_id, `${label}: PyJWT PyJWKClient`)
          }
        }
        const before = await sigil.token(client)
        await verifyAll(before, 'before the rotation')
        const hitsWarm = jwksHits.total()
        const rotated = await sigil.rotate(alg)
        const after = await sigil.token(client)
        t.equal(decodeProtectedHeader(after).kid, rotated.current.kid, 'the former next key signs now')
        t.equal(decodeProtectedHeader(before).kid, rotated.retiring.kid)
        await verifyAll(after, 'after the rotation')
        await verifyAll(before, 'before the rotation, verified after it')
        t.equal(jwksHits.total(), hitsWarm, 'no verifier fetched the JWKS again: the new key was already in its cache as next')
      })
    }

    t.test('PyJWT on a per-algorithm JWKS refuses the other algorithm\'s token cleanly', { skip: noPython }, async t => {
      if (python === undefined) return
      const es = { client_id: 'es-only', client_secret: 'es-only-secret-0123456789-0123456789' }
      await sigil.createClient({ ...es, audience: AUDIENCE, signing_alg: 'ES256' })
      const py = startLineProcess(t, python, [PYJWT_SCRIPT])
      await py.ask(JSON.stringify({ jwks_uri: `${issuer}/.well-known/jwks.json?alg=RS256`, issuer, audience: AUDIENCE, algorithms: ['RS256'] }))
      const r = JSON.parse(await py.ask(await sigil.token(es))) as PyResult
      t.same([r.ok, !r.ok && r.pyjwt_error], [false, true], `a PyJWT error (${r.ok ? '' : r.error}), which simplejwt turns into 401`)
    })
  })
}
