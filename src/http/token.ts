import type { FastifyPluginAsync } from 'fastify'
import { authenticateClient } from '../clients/client-auth.js'
import { findClient } from '../clients/client-registry.js'
import { InvalidRequest, UnsupportedGrantType } from '../errors.js'
import { runGrant, SUPPORTED_GRANT_TYPES } from '../grants/index.js'
import type { Logger } from '../log.js'
import type { Services } from '../services.js'
import { limitIpFailures } from '../throttle/attempt-limits.js'
import { registerRequestCap } from './request-cap.js'

/**
 * Flattens a form or JSON body into single string values. RFC 6749 §3.2: parameters must
 * not repeat, and every value is a string. Throws {@link InvalidRequest}.
 */
export function readParams(body: unknown): Record<string, string | undefined> {
  if (body === undefined || body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequest('the body must be a set of parameters')
  const params: Record<string, string> = {}
  for (const [name, value] of Object.entries(body)) {
    if (Array.isArray(value)) throw new InvalidRequest(`parameter ${name} is repeated`)
    if (typeof value !== 'string') throw new InvalidRequest(`parameter ${name} must be a string`)
    params[name] = value
  }
  return params
}

export const tokenRoutes = (s: Services): FastifyPluginAsync => async app => {
  app.addHook('onSend', async (_req, reply) => {
    // RFC 6749 §5.1: token responses must not be cached.
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
  })
  await registerRequestCap(app, s)

  app.post('/oauth2/token', async (req, reply) => {
    const params = readParams(req.body)
    const grantType = params.grant_type
    if (grantType === undefined || grantType === '') throw new InvalidRequest('grant_type is required')
    if (!SUPPORTED_GRANT_TYPES.includes(grantType)) throw new UnsupportedGrantType(`grant_type ${grantType}`)
    const response = await limitIpFailures(s, req.ip, async () => {
      const client = await authenticateClient(
        { findClient: id => findClient(s.clients, id), secretKey: s.clients.secretKey },
        { authorization: req.headers.authorization, clientId: params.client_id, clientSecret: params.client_secret },
      )
      // The request logger is a pino child of s.log (app.ts), so it is a full Logger.
      return runGrant(grantType, { client, params, ip: req.ip, log: req.log as Logger }, s)
    })
    return reply.send(response)
  })
}
