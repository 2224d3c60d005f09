import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../../services.js'
import { endUserSessions } from '../../refresh/refresh-family.js'
import { createUser, deleteUser, getUser } from '../../users/user-registry.js'

export const adminUserRoutes = (s: Services): FastifyPluginAsync => async app => {
  app.post('/admin/users', async (req, reply) => reply.status(201).send(await createUser(s.users, req.body)))
  app.delete<{ Params: { id: string } }>('/admin/users/:id', async (req, reply) => {
    await deleteUser(s.users, req.params.id)
    // Their families end and their access tokens turn inactive at introspection at once.
    await endUserSessions(s.sessions, req.params.id)
    return reply.status(204).send()
  })
  // Logout everywhere: every family ends, and the user's outstanding access tokens turn inactive.
  app.post<{ Params: { id: string } }>('/admin/users/:id/revoke-tokens', async req => {
    await getUser(s.users, req.params.id)
    return { revoked_families: await endUserSessions(s.sessions, req.params.id) }
  })
}
