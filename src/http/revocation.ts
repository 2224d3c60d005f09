import type { FastifyPluginAsync } from 'fastify'
import { isPublicClient } from '../clients/client.js'
import { InvalidClient, InvalidRequest } from '../errors.js'
import { introspectToken } from '../revocation/introspection.js'
import { revokeToken } from '../revocation/token-revocation.js'
import type { Services } from '../services.js'
import { withClient } from './client-authentication.js'
import { readParams } from './token.js'
import { noStore } from './no-store.js'

function requireToken(params: Record<string, string | undefined>): string {
  const token = params.token
  if (token === undefined || token === '') throw new InvalidRequest('token is required')
  return token
}

/** RFC 7009 revocation and RFC 7662 introspection. */
export const revocationRoutes = (s: Services): FastifyPluginAsync => async app => {
  noStore(app)

  // RFC 7009 §2.2: 200 for every well-formed request, whether or not the token was known.
  app.post('/oauth2/revoke', async (req, reply) => {
    const params = readParams(req.body)
    const token = requireToken(params)
    await withClient(s, req, params, client => revokeToken(s.sessions, client, token))
    return reply.status(200).send()
  })

  app.post('/oauth2/introspect', async req => {
    const params = readParams(req.body)
    const token = requireToken(params)
    return withClient(s, req, params, async client => {
      // Only confidential clients (resource servers) may ask (API.md).
      if (isPublicClient(client)) throw new InvalidClient('a public client may not introspect')
      return introspectToken(s.sessions, token)
    })
  })
}
