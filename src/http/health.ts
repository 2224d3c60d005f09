import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../services.js'

type Check = 'ok' | 'unavailable'

/**
 * Pings the database and the store, records the result in the `sigil_dependency_up` gauges
 * and returns it. Never throws.
 */
export async function probeDependencies(s: Services): Promise<{ database: Check; store: Check }> {
  const probe = (fn: () => Promise<void>) => fn().then(() => true, () => false)
  const [database, store] = await Promise.all([probe(() => s.db.ping()), probe(() => s.store.ping())])
  s.metrics.dependencyUp('database', database)
  s.metrics.dependencyUp('store', store)
  return { database: database ? 'ok' : 'unavailable', store: store ? 'ok' : 'unavailable' }
}

/**
 * Liveness and readiness: ready only with a usable database, store and current signing key,
 * and never once draining has begun (load balancers take the instance out while it finishes
 * its in-flight requests).
 */
export const healthRoutes = (s: Services): FastifyPluginAsync => async app => {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    if (s.lifecycle.draining) return reply.status(503).send({ status: 'draining' })
    const checks = {
      ...await probeDependencies(s),
      signing_key: s.ring.signingKey(s.config.signingAlg) ? 'ok' : 'unavailable',
    }
    // Draining may have begun during the probes: the answer says what is true when it is sent.
    if (s.lifecycle.draining) return reply.status(503).send({ status: 'draining' })
    const ready = Object.values(checks).every(c => c === 'ok')
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks })
  })
}
