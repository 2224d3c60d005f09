import type { FastifyPluginAsync } from 'fastify'
import { isPublicClient } from '../clients/client.js'
import { InvalidClient } from '../errors.js'
import { introspectToken } from '../introspection/introspection.js'
import type { Services } from '../services.js'
import { withClient } from './client-authentication.js'
import { noStore } from './no-store.js'
import { requireToken } from './revocation.js'
import { readParams } from './form-body.js'

/** RFC 7662 introspection. */
export const introspectionRoutes = (s: Services): FastifyPluginAsync => async app => {
  noStore(app)

  app.post('/oauth2/introspect', async req => {
    const params = readParams(req.body)
    const token = requireToken(params)
    return withClient(s, req, params, async client => {
      // Only confidential clients (resource servers) may ask (RFC 7662 §2.1: the caller is authorized).
      if (isPublicClient(client)) throw new InvalidClient('a public client may not introspect')
      return introspectToken(s.families, token)
    })
  })
}
