import t from 'tap'
import { backends } from '../helpers/backends.js'
import { signWithIssuerKey } from '../helpers/forge.js'
import { pythonForInterop } from '../helpers/python.js'
import { startDjango } from '../helpers/django.js'
import { startTestServer } from '../helpers/server.js'
import { countRequests, sigilHttp, type ClientSpec } from '../helpers/sigil-http.js'

const AUDIENCE = 'https://orders.example'
const MODULES = ['django', 'rest_framework', 'rest_framework_simplejwt', 'jwt', 'cryptography']

const { python, skip } = pythonForInterop(MODULES)

for (const backend of backends()) {
  t.test(backend.name, { skip }, async t => {
    if (python === undefined) return
    const { app, services, issuer } = await startTestServer(t, backend)
    const jwksHits = countRequests(app, '/.well-known/jwks.json')
    const sigil = sigilHttp(issuer)

    for (const alg of ['ES256', 'RS256'] as const) {
      t.test(`stock simplejwt (ALGORITHM ${alg}) accepts Sigil's simplejwt-profile tokens`, async t => {
        const otherAlg = alg === 'ES256' ? 'RS256' : 'ES256'
        const spec = (id: string, extra: Partial<ClientSpec> = {}): ClientSpec => ({
          client_id: `${id}-${alg}`, client_secret: `${id}-${alg}-secret-0123456789-0123456789`,
          token_profile: 'simplejwt', signing_alg: alg, audience: AUDIENCE, scopes: ['orders:read'], ...extra,
        })
        const web = spec('web', { grant_types: ['password', 'client_credentials'] })
        const others = {
          aud: spec('billing', { audience: 'https://billing.example' }),
          noScope: spec('noscope', { scopes: [] }),
          rfc9068: spec('plain', { token_profile: 'rfc9068' }),
          otherAlg: spec('otheralg', { signing_alg: otherAlg }),
        }
        for (const c of [web, ...Object.values(others)]) await sigil.createClient(c)
        const user = { username: `alice-${alg}`, password: 'correct horse battery staple 42' }
        const userId = await sigil.createUser(user)
        const django = await startDjango(t, python, { SIGIL_ISSUER: issuer, SIGIL_AUDIENCE: AUDIENCE, SIGIL_ALGORITHM: alg })
        const get = (path: string, token?: string) => fetch(`${django}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
        const now = Math.floor(Date.now() / 1000)
        // With both algorithms in JWK_URL's set, PyJWT would hand an EC key to RS256 and raise a bare TypeError (500).
        const crossKid = () => {
          const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url')
          const header = { alg, typ: 'at+jwt', kid: services.ring.signingKey(otherAlg)!.kid }
          return `${b64(header)}.${b64({ iss: issuer, aud: AUDIENCE, exp: now + 60, token_type: 'access', user_id: 'u', jti: 'j' })}.${Buffer.alloc(alg === 'RS256' ? 256 : 64).toString('base64url')}`
        }

        for (const c of [
          { name: 'a user\'s password-grant token: 200 with that user\'s id', token: () => sigil.token(web, { grant_type: 'password', ...user, scope: 'orders:read' }), status: 200, userId },
          { name: 'a client_credentials token: 200, user_id = the client', token: () => sigil.token(web), status: 200, userId: web.client_id },
          { name: 'a scoped endpoint with the scope: 200', path: '/api/orders', token: () => sigil.token(web), status: 200 },
          { name: 'a scoped endpoint without the scope: 403', path: '/api/orders', token: () => sigil.token(others.noScope), status: 403 },
          { name: 'another audience: 401', token: () => sigil.token(others.aud), status: 401 },
          { name: `a ${otherAlg} token: 401, not 500`, token: () => sigil.token(others.otherAlg), status: 401 },
          { name: `a crafted ${alg} header naming the ${otherAlg} key's kid: 401, not 500 (the JWKS holds only ${alg} keys)`, token: async () => crossKid(), status: 401 },
          { name: 'an rfc9068-profile token (no token_type): 401', token: () => sigil.token(others.rfc9068), status: 401 },
          { name: 'expired beyond LEEWAY: 401', token: () => signWithIssuerKey(services, alg, { claims: { aud: AUDIENCE, exp: now - 60, iat: now - 900, token_type: 'access', user_id: 'u' } }), status: 401 },
          { name: 'no token: 401 with a Bearer challenge', token: async () => undefined, status: 401, challenge: 'Bearer realm="api"' },
        ]) {
          t.test(c.name, async t => {
            const r = await get(c.path ?? '/api/whoami', await c.token())
            t.equal(r.status, c.status)
            if (c.userId !== undefined) t.equal(((await r.json()) as { user_id: string }).user_id, c.userId)
            if (c.challenge !== undefined) t.equal(r.headers.get('www-authenticate'), c.challenge)
          })
        }

        t.test('across a key rotation, without refetching the JWKS: the new key was cached as next', async t => {
          const jwksUrl = `/.well-known/jwks.json?alg=${alg}`
          const before = await sigil.token(web)
          t.equal((await get('/api/whoami', before)).status, 200)
          const fetched = jwksHits.url(jwksUrl)
          t.ok(fetched >= 1, `simplejwt fetched ${jwksUrl}`)
          await sigil.rotate(alg)
          const after = await sigil.token(web)
          t.equal((await get('/api/whoami', after)).status, 200, 'a token signed after the rotation')
          t.equal((await get('/api/whoami', before)).status, 200, 'a token signed before it')
          t.equal(jwksHits.url(jwksUrl), fetched, 'no JWKS request for the new kid')
        })
      })
    }
  })
}

