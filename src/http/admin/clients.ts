import type { FastifyPluginAsync } from 'fastify'
import { deleteClient, getClient, listClients, registerClient, updateClient } from '../../clients/client-registry.js'
import type { Services } from '../../services.js'

export const adminClientRoutes = (s: Services): FastifyPluginAsync => async app => {
  app.post('/admin/clients', async (req, reply) => reply.status(201).send(await registerClient(s.clients, req.body)))
  app.get('/admin/clients', async () => ({ clients: await listClients(s.clients) }))
  app.get<{ Params: { client_id: string } }>('/admin/clients/:client_id', async req => getClient(s.clients, req.params.client_id))
  app.patch<{ Params: { client_id: string } }>('/admin/clients/:client_id', async req => updateClient(s.clients, req.params.client_id, req.body))
  app.delete<{ Params: { client_id: string } }>('/admin/clients/:client_id', async (req, reply) => {
    await deleteClient(s.clients, req.params.client_id)
    return reply.status(204).send()
  })
}
