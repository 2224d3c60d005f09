import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../../services.js'
import { revokeConsent } from '../../authorize/authorization-flow.js'
import type { Logger } from '../../log.js'
import { importDjangoUsers } from '../../users/django-import.js'
import { createUser, getUser } from '../../users/user-registry.js'
import { endUserSessions, removeUser } from '../../users/user-removal.js'

/** About 40 000 users of `manage.py dumpdata auth.user`. */
const IMPORT_BODY_LIMIT_BYTES = 16 * 1024 * 1024

export const adminUserRoutes = (s: Services): FastifyPluginAsync => async app => {
  app.post('/admin/users', async (req, reply) => reply.status(201).send(await createUser(s.users, req.body)))
  // issue 13: a dumpdata of many users is larger than the other routes' bodies.
  app.post('/admin/users/import', { bodyLimit: IMPORT_BODY_LIMIT_BYTES }, async req => importDjangoUsers(s.users, req.body, req.log as Logger))
  app.delete<{ Params: { id: string } }>('/admin/users/:id', async (req, reply) => {
    await removeUser(s, req.params.id)
    return reply.status(204).send()
  })
  // Logout everywhere: every family ends, and the user's outstanding access tokens turn inactive.
  app.post<{ Params: { id: string } }>('/admin/users/:id/revoke-tokens', async req => {
    const ended = await endUserSessions(s, req.params.id)
    return { revoked_families: ended.revokedFamilies, ended_login_sessions: ended.endedLoginSessions }
  })
  // A third-party client's remembered consent (issue 10): the consent page is shown again next time.
  app.delete<{ Params: { id: string; client_id: string } }>('/admin/users/:id/consents/:client_id', async (req, reply) => {
    await getUser(s.users, req.params.id)
    await revokeConsent({ store: s.store, log: s.logins.log }, req.params.id, req.params.client_id)
    return reply.status(204).send()
  })
}
