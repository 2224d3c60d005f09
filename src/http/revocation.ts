import type { FastifyPluginAsync } from 'fastify'
import { InvalidRequest } from '../errors.js'
import { revokeToken } from '../revocation/token-revocation.js'
import type { Services } from '../services.js'
import { withClient } from './client-authentication.js'
import { readParams } from './form-body.js'
import { noStore } from './no-store.js'

/** The `token` parameter of RFC 7009 §2.1 and RFC 7662 §2.1. */
export function requireToken(params: Record<string, string | undefined>): string {
  const token = params.token
  if (token === undefined || token === '') throw new InvalidRequest('token is required')
  return token
}

/** RFC 7009 revocation. */
export const revocationRoutes = (s: Services): FastifyPluginAsync => async app => {
  noStore(app)

  // RFC 7009 §2.2: 200 for every well-formed request, whether or not the token was known.
  app.post('/oauth2/revoke', async (req, reply) => {
    const params = readParams(req.body)
    const token = requireToken(params)
    await withClient(s, req, params, client => revokeToken(s.families, client, token))
    return reply.status(200).send()
  })
}
