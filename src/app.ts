import { randomUUID } from 'node:crypto'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify'
import { logRequests } from './http/access-log.js'
import { adminRoutes } from './http/admin/index.js'
import { discoveryRoutes } from './http/discovery.js'
import { parseForm } from './http/form-body.js'
import { installErrorHandler } from './http/error-handler.js'
import { healthRoutes } from './http/health.js'
import { jwksRoutes } from './http/jwks.js'
import { rejectNulCharacters } from './http/input-guard.js'
import { installMetrics } from './http/metrics.js'
import { registerProtection } from './http/protection.js'
import { revocationRoutes } from './http/revocation.js'
import { tokenRoutes } from './http/token.js'
import { userinfoRoutes } from './http/userinfo.js'
import type { Services } from './services.js'

/** Request bodies are small (form posts, admin JSON): anything larger is refused with 413. */
const BODY_LIMIT_BYTES = 64 * 1024

/** The one place the HTTP surface is wired. Does not listen. */
export async function buildApp(s: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: s.log as FastifyBaseLogger,
    trustProxy: trustProxyOption(s.config.trustProxy),
    bodyLimit: BODY_LIMIT_BYTES,
    // One access line per request instead of two (http/access-log.ts).
    disableRequestLogging: true,
    genReqId: req => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID()
    },
    // A URL that cannot be decoded (bad percent escape) never reaches a route: same error shape.
    frameworkErrors: (_err, _req, reply) => {
      void (reply as unknown as FastifyReply).status(400).send({ error: 'invalid_request', error_description: 'malformed URL' })
    },
  })
  installErrorHandler(app, 'sigil')
  logRequests(app)
  // Only form and JSON bodies: text/plain (a Fastify default) would reach routes as a string.
  app.removeContentTypeParser('text/plain')
  // An empty JSON body (curl -X POST -H 'content-type: application/json' …/revoke) means "no parameters".
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') return done(null, undefined)
    parseJson(req, body as string, done)
  })
  await app.register(formbody, { parser: parseForm })
  // Root-level hooks (headers, CORS, load shedding, metrics) first, so they reach every route.
  await registerProtection(app, s)
  await installMetrics(app, s)
  rejectNulCharacters(app)
  await app.register(healthRoutes(s))
  await app.register(discoveryRoutes(s))
  await app.register(jwksRoutes(s))
  await app.register(tokenRoutes(s))
  await app.register(revocationRoutes(s))
  await app.register(userinfoRoutes(s))
  await app.register(adminRoutes(s))
  return app
}

/** A hop count trusts that many proxies nearest to us; a list trusts those addresses/CIDRs. */
function trustProxyOption(trust: Services['config']['trustProxy']) {
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust
  return trust === false ? false : [...trust]
}
