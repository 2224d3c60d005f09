import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import { InvalidGrant, TooManyRequests } from '../errors.js'
import type { LoginOutcome } from '../metrics/ports.js'
import type { Services } from '../services.js'
import { probeDependencies } from './health.js'

/**
 * Records every request (route pattern, method, status, latency), 429s and password-grant login
 * outcomes into `s.metrics`. Must be installed on the root instance before the routes, so its
 * hooks reach every route.
 */
export function recordMetrics(app: FastifyInstance, s: Services): void {
  const errors = new WeakMap<FastifyRequest, Error>()
  // Synchronous hooks: no promise per request.
  app.addHook('onError', (req, _reply, err, done) => {
    errors.set(req, err)
    done()
  })
  app.addHook('onResponse', (req, reply, done) => {
    // The pattern, never req.url: a label per URL would grow without bound.
    const route = req.routeOptions.url ?? 'unmatched'
    const status = reply.statusCode
    s.metrics.httpRequest({ route, method: req.method, status }, reply.elapsedTime / 1000)
    if (status === 429) s.metrics.rateLimited(route)
    if (route === '/oauth2/token' && req.method === 'POST' && grantTypeOf(req.body) === 'password') {
      const outcome = loginOutcome(status, errors.get(req))
      if (outcome) s.metrics.loginOutcome(outcome)
    }
    done()
  })
}

/**
 * `GET /metrics` in the Prometheus text format: for the management listener only, never the
 * public one. With `serve --workers N` the workers share the management port as they share the
 * public one, so a scrape reaches one worker and shows that worker's counts.
 */
export const metricsRoutes = (s: Services): FastifyPluginAsync => async app => {
  app.get('/metrics', async (_req, reply) => {
    await Promise.all([probeDependencies(s), observeKeys(s)])
    const { contentType, body } = await s.metrics.render()
    return reply.type(contentType).header('cache-control', 'no-store').send(body)
  })
}

/** Key gauges come from the database at scrape time; with the database down they keep their last values. */
async function observeKeys(s: Services): Promise<void> {
  try {
    s.metrics.signingKeys(await s.keys.repo.listPublished(), s.clock.now())
  } catch (err) {
    s.log.warn({ err }, 'metrics: could not read the signing keys')
  }
}

function grantTypeOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>).grant_type : undefined
}

/** Only answers that say something about the credentials count; a malformed request is no login. */
function loginOutcome(status: number, err: Error | undefined): LoginOutcome | undefined {
  if (status === 200) return 'success'
  if (err instanceof TooManyRequests) return 'throttled'
  if (err instanceof InvalidGrant) return 'failure'
  return status >= 500 ? 'error' : undefined
}
