import type { FastifyPluginAsync } from 'fastify'
import { findGrant, runGrant } from '../grants/index.js'
import type { Logger } from '../log.js'
import type { Services } from '../services.js'
import { withClient } from './client-authentication.js'
import { readParams } from './form-body.js'
import { registerRequestCap } from './request-cap.js'
import { noStore } from './no-store.js'

/**
 * RFC 6749 §5.1 token response ({@link TokenResponse}), serialized by Fastify's compiled
 * serializer (fast-json-stringify) instead of JSON.stringify. Only these members are sent.
 */
const TOKEN_RESPONSE_SCHEMA = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in'],
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
    scope: { type: 'string' },
    refresh_token: { type: 'string' },
    id_token: { type: 'string' },
  },
} as const

export const tokenRoutes = (s: Services): FastifyPluginAsync => async app => {
  noStore(app)
  await registerRequestCap(app, s)

  app.post('/oauth2/token', { schema: { response: { 200: TOKEN_RESPONSE_SCHEMA } } }, async (req, reply) => {
    const params = readParams(req.body)
    const grant = findGrant(params.grant_type)
    // The request logger is a pino child of s.log (app.ts), so it is a full Logger.
    const response = await withClient(s, req, params, client =>
      runGrant(grant, { client, params, ip: req.ip, log: req.log as Logger }, s))
    return reply.send(response)
  })
}
