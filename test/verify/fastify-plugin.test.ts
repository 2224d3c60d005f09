import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import { requireScopes, sigilAuth, type SigilAuthOptions } from '../../src/fastify-plugin/index.js'
import { createVerifier, VerifierOptionsError } from '../../src/verify/index.js'
import { backends } from '../helpers/backends.js'
import { startFakeIssuer } from '../helpers/fake-issuer.js'
import { signWithIssuerKey } from '../helpers/forge.js'
import { startTestServer } from '../helpers/server.js'
import { sigilHttp } from '../helpers/sigil-http.js'

const AUDIENCE = 'https://api.example'

/** A resource server: /healthz public; /orders and /orders/write protected, the latter needing orders:write. */
async function resourceServer(t: { teardown(fn: () => unknown): void }, opts: SigilAuthOptions): Promise<FastifyInstance> {
  const app = Fastify()
  app.get('/healthz', async () => ({ ok: true }))
  app.get('/unprotected-scoped', { preHandler: requireScopes('orders:read') }, async () => ({ reached: true }))
  await app.register(async api => {
    await api.register(sigilAuth, opts)
    api.get('/orders', { preHandler: requireScopes('orders:read') }, async req => ({ sub: req.auth.sub, client_id: req.auth.client_id }))
    api.post('/orders', { preHandler: requireScopes('orders:read', 'orders:write') }, async () => ({ created: true }))
  })
  t.teardown(() => app.close())
  return app
}

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { services, issuer } = await startTestServer(t, backend)
    const sigil = sigilHttp(issuer)
    const client = { client_id: 'shop', client_secret: 'shop-secret-0123456789-0123456789-abcdef' }
    await sigil.createClient({ ...client, scopes: ['orders:read'], audience: AUDIENCE })
    const good = await sigil.token(client)
    const app = await resourceServer(t, { issuer, audience: AUDIENCE, realm: 'orders' })
    const now = Math.floor(Date.now() / 1000)
    const expired = await signWithIssuerKey(services, 'ES256', { claims: { exp: now - 120, iat: now - 900 } })
    const otherAudience = await signWithIssuerKey(services, 'ES256', { claims: { aud: 'https://billing.example' } })

    for (const c of [
      { name: 'no Authorization header: 401 and a challenge without error', auth: undefined, status: 401, challenge: 'Bearer realm="orders"' },
      { name: 'another scheme (Basic): treated as no token', auth: 'Basic b3JkZXJzOnNlY3JldA==', status: 401, challenge: 'Bearer realm="orders"' },
      { name: 'a Bearer header holding two values: 400 invalid_request', auth: 'Bearer a b', status: 400, error: 'invalid_request' },
      { name: 'garbage: 401 invalid_token', auth: 'Bearer not.a.jwt', status: 401, error: 'invalid_token' },
      { name: 'expired: 401 invalid_token', auth: `Bearer ${expired}`, status: 401, error: 'invalid_token', description: 'the access token has expired' },
      { name: 'another audience: 401 invalid_token', auth: `Bearer ${otherAudience}`, status: 401, error: 'invalid_token' },
      { name: 'without orders:write: 403 insufficient_scope naming the scopes', auth: `Bearer ${good}`, method: 'POST' as const, status: 403, error: 'insufficient_scope', scope: 'orders:read orders:write' },
    ]) {
      t.test(c.name, async t => {
        const r = await app.inject({ method: c.method ?? 'GET', url: '/orders', headers: c.auth === undefined ? {} : { authorization: c.auth } })
        t.equal(r.statusCode, c.status)
        const challenge = r.headers['www-authenticate'] as string
        if (c.challenge) t.equal(challenge, c.challenge)
        if (c.error) {
          t.equal(r.json().error, c.error)
          t.match(challenge, new RegExp(`^Bearer realm="orders", error="${c.error}", error_description="[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]+"`))
        }
        if (c.description) t.equal(r.json().error_description, c.description)
        if (c.scope) t.match(challenge, new RegExp(`, scope="${c.scope}"$`))
      })
    }

    t.test('a valid token reaches the route with its claims on request.auth', async t => {
      const r = await app.inject({ url: '/orders', headers: { authorization: `Bearer ${good}` } })
      t.equal(r.statusCode, 200)
      t.same(r.json(), { sub: 'shop', client_id: 'shop' })
    })
    t.test('routes outside the registering scope stay public', async t => {
      t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
    })
    t.test('requireScopes on a route sigilAuth does not protect fails closed (500)', async t => {
      t.equal((await app.inject({ url: '/unprotected-scoped', headers: { authorization: `Bearer ${good}` } })).statusCode, 500)
    })
  })
}

t.test('issuer unreachable: 503 without a Bearer challenge', async t => {
  const fake = await startFakeIssuer(t)
  fake.state.mode = 'down'
  const app = await resourceServer(t, { verifier: createVerifier({ issuer: fake.issuer, audience: AUDIENCE }) })
  const r = await app.inject({ url: '/orders', headers: { authorization: `Bearer ${await fake.sign()}` } })
  t.equal(r.statusCode, 503)
  t.equal(r.headers['www-authenticate'], undefined)
  t.equal(r.json().error, 'temporarily_unavailable')
})

t.test('unsafe options refuse to register', async t => {
  for (const opts of [
    { issuer: 'http://127.0.0.1:1', audience: AUDIENCE, realm: 'a"b' },
    { issuer: 'http://127.0.0.1:1', audience: AUDIENCE, algorithms: ['HS256'] },
  ]) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(sigilAuth, opts).ready() }, VerifierOptionsError)
    await app.close()
  }
})
