// A resource server that accepts Sigil access tokens, with sigil/fastify.
//
//   SIGIL_ISSUER=https://auth.example.com SIGIL_AUDIENCE=https://orders.example node server.js
//
// The Sigil clients calling it are registered with "audience": SIGIL_AUDIENCE and the scopes below.
import Fastify from 'fastify'
import { requireScopes, sigilAuth } from 'sigil/fastify'

const issuer = process.env.SIGIL_ISSUER ?? 'http://localhost:3000'
const audience = process.env.SIGIL_AUDIENCE ?? 'https://orders.example'

const app = Fastify({ logger: true })

// Outside the protected scope: no token needed.
app.get('/healthz', async () => ({ ok: true }))

// Every route registered in this scope needs a valid access token; its claims are on request.auth.
await app.register(async api => {
  await api.register(sigilAuth, {
    issuer,
    audience,
    realm: 'orders',
    algorithms: ['ES256', 'RS256'],
    // Optional revocation awareness (RFC 7662): a confidential Sigil client of this API.
    ...(process.env.SIGIL_INTROSPECTION_CLIENT_ID && {
      introspection: {
        clientId: process.env.SIGIL_INTROSPECTION_CLIENT_ID,
        clientSecret: process.env.SIGIL_INTROSPECTION_CLIENT_SECRET,
        cacheTtlMs: 10_000,
      },
    }),
  })

  api.get('/api/whoami', async req => ({ sub: req.auth.sub, client_id: req.auth.client_id, scope: req.auth.scope ?? '' }))

  // 403 insufficient_scope (WWW-Authenticate: Bearer …, scope="orders:read") without the scope.
  api.get('/api/orders', { preHandler: requireScopes('orders:read') }, async req => ({ orders: [], user: req.auth.sub }))
  api.post('/api/orders', { preHandler: requireScopes('orders:write') }, async (_req, reply) => reply.code(201).send({ created: true }))
})

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 8080) })
