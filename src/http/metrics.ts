import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { listPublishedKeys } from '../keys/key-inventory.js'
import type { Services } from '../services.js'
import { probeDependencies } from './health.js'

/**
 * Records every request (route pattern, method, status, latency) and 429s into `s.metrics`
 * (login outcomes are counted where logins happen, users/login.ts). Must be installed on the
 * root instance before the routes, so its hook reaches every route.
 */
export function recordMetrics(app: FastifyInstance, s: Services): void {
  // A synchronous hook: no promise per request.
  app.addHook('onResponse', (req, reply, done) => {
    // The pattern, never req.url: a label per URL would grow without bound.
    const route = req.routeOptions.url ?? 'unmatched'
    const status = reply.statusCode
    s.metrics.httpRequest({ route, method: req.method, status }, reply.elapsedTime / 1000)
    if (status === 429) s.metrics.rateLimited(route)
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
    s.metrics.signingKeys(await listPublishedKeys(s.keys), s.clock.now())
  } catch (err) {
    s.log.warn({ err }, 'metrics: could not read the signing keys')
  }
}
