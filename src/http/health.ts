import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../services.js'

/** Liveness and readiness: ready only with a usable database, store and current signing key. */
export const healthRoutes = (s: Services): FastifyPluginAsync => async app => {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    const probe = async (fn: () => Promise<void>) => fn().then(() => 'ok', () => 'unavailable')
    const checks = {
      database: await probe(() => s.db.ping()),
      store: await probe(() => s.store.ping()),
      signing_key: s.ring.signingKey(s.config.signingAlg) ? 'ok' : 'unavailable',
    }
    const ready = Object.values(checks).every(c => c === 'ok')
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks })
  })
}
