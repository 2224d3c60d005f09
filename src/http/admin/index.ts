import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../../services.js'
import { adminClientRoutes } from './clients.js'
import { requireAdmin } from './guard.js'
import { adminKeyRoutes } from './keys.js'
import { adminUserRoutes } from './users.js'
import { noStore } from '../no-store.js'

/** Everything under /admin, behind {@link requireAdmin}; JSON in and out. */
export const adminRoutes = (s: Services): FastifyPluginAsync => async app => {
  app.addHook('onRequest', requireAdmin(s))
  noStore(app)
  await app.register(adminKeyRoutes(s))
  await app.register(adminClientRoutes(s))
  await app.register(adminUserRoutes(s))
}
