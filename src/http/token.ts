import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { isPublicClient } from '../clients/client.js'
import { familyIdOf } from '../refresh/refresh-family.js'
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

/**
 * Issue 12: whether this request is a plain refresh by a public client (cached, no secret to
 * check, no scope to narrow, a token of our shape), whose IP failure slot can be checked
 * inside the rotation's own store step (see limitIpFailures `gateInAttempt`) when the store
 * can do that. Any other request takes the slot first.
 */
function isPlainPublicRefresh(s: Services, req: FastifyRequest, params: Record<string, string | undefined>): boolean {
  if (params.grant_type !== 'refresh_token' || params.scope !== undefined || !s.families.store.rotateRefreshTokenInIpSlot) return false
  if (req.headers.authorization !== undefined || params.client_secret !== undefined || params.client_id === undefined) return false
  const client = s.clients.cache.peek(params.client_id)
  return !!client && isPublicClient(client) && client.grantTypes.includes('refresh_token') && familyIdOf(params.refresh_token ?? '') !== null
}

export const tokenRoutes = (s: Services): FastifyPluginAsync => async app => {
  noStore(app)
  await registerRequestCap(app, s)

  app.post('/oauth2/token', { schema: { response: { 200: TOKEN_RESPONSE_SCHEMA } } }, async (req, reply) => {
    const params = readParams(req.body)
    const grant = findGrant(params.grant_type)
    // The request logger is a pino child of s.log (app.ts), so it is a full Logger.
    const gateInAttempt = isPlainPublicRefresh(s, req, params)
    const response = await withClient(s, req, params, (client, ipSlot) =>
      runGrant(grant, { client, params, ip: req.ip, log: req.log as Logger, ipSlot }, s), { gateInAttempt })
    return reply.send(response)
  })
}
