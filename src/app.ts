import { randomUUID } from 'node:crypto'
import formbody from '@fastify/formbody'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import { databaseUnavailable } from './db/connection-errors.js'
import { AccessLog } from './http/access-log.js'
import { adminRoutes } from './http/admin/index.js'
import { discoveryRoutes } from './http/discovery.js'
import { parseForm } from './http/form-body.js'
import { answerClientError, installErrorHandler } from './http/error-handler.js'
import { healthRoutes } from './http/health.js'
import { hostedRoutes } from './http/hosted/index.js'
import { jwksRoutes } from './http/jwks.js'
import { registerJsonParser } from './http/json-body.js'
import { rejectNulCharacters } from './http/input-guard.js'
import { metricsRoutes, recordMetrics } from './http/metrics.js'
import { registerProtection } from './http/protection.js'
import { introspectionRoutes } from './http/introspection.js'
import { revocationRoutes } from './http/revocation.js'
import { httpServerOptions } from './http/server-options.js'
import { simplejwtRoutes } from './http/simplejwt/index.js'
import { tokenRoutes } from './http/token.js'
import { userinfoRoutes } from './http/userinfo.js'
import type { Services } from './services.js'

/** Request bodies are small (form posts, admin JSON): anything larger is refused with 413. */
const BODY_LIMIT_BYTES = 64 * 1024

/** A URL that cannot be decoded (bad percent escape) never reaches a route: same error shape. */
const rejectMalformedUrl: FastifyServerOptions['frameworkErrors'] = (_err, _req, reply) => {
  void (reply as unknown as FastifyReply).status(400).send({ error: 'invalid_request', error_description: 'malformed URL' })
}

/** The one place the public HTTP surface is wired. Does not listen. */
export async function buildApp(s: Services): Promise<FastifyInstance> {
  const app = Fastify({
    ...httpServerOptions(s.config),
    loggerInstance: s.log as FastifyBaseLogger,
    trustProxy: trustProxyOption(s.config.trustProxy),
    bodyLimit: BODY_LIMIT_BYTES,
    logController: new AccessLog(),
    genReqId: req => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID()
    },
    clientErrorHandler: answerClientError,
    frameworkErrors: rejectMalformedUrl,
  })
  installErrorHandler(app, 'sigil', databaseUnavailable)
  // Only form and JSON bodies: text/plain (a Fastify default) would reach routes as a string.
  app.removeContentTypeParser('text/plain')
  // An empty JSON body (curl -X POST -H 'content-type: application/json' …/revoke) means "no parameters".
  registerJsonParser(app)
  await app.register(formbody, { parser: parseForm })
  // Root-level hooks (headers, CORS, load shedding, metrics) first, so they reach every route.
  await registerProtection(app, s)
  recordMetrics(app, s)
  rejectNulCharacters(app, s)
  await app.register(healthRoutes(s))
  await app.register(discoveryRoutes(s))
  await app.register(jwksRoutes(s))
  await app.register(tokenRoutes(s))
  await app.register(simplejwtRoutes(s))
  await app.register(revocationRoutes(s))
  await app.register(introspectionRoutes(s))
  await app.register(userinfoRoutes(s))
  await app.register(hostedRoutes(s))
  await app.register(adminRoutes(s))
  return app
}

/**
 * The management listener's app (MANAGEMENT_HOST:MANAGEMENT_PORT, localhost by default):
 * `/metrics`, which is not on the public app, and the probes `/healthz` and `/readyz`, which
 * are on both (load balancers and orchestrators probe the public port). Does not listen.
 */
export async function buildManagementApp(s: Services): Promise<FastifyInstance> {
  const app = Fastify({
    ...httpServerOptions(s.config),
    loggerInstance: s.log.child({ listener: 'management' }) as FastifyBaseLogger,
    // Scrapes and probes every few seconds: no access lines.
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: answerClientError,
    frameworkErrors: rejectMalformedUrl,
  })
  installErrorHandler(app, 'sigil', databaseUnavailable)
  await app.register(healthRoutes(s))
  await app.register(metricsRoutes(s))
  return app
}

/** A hop count trusts that many proxies nearest to us; a list trusts those addresses/CIDRs. */
function trustProxyOption(trust: Services['config']['trustProxy']) {
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust
  return trust === false ? false : [...trust]
}
