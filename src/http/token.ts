import type { FastifyPluginAsync } from 'fastify'
import { InvalidRequest } from '../errors.js'
import { findGrant, runGrant } from '../grants/index.js'
import type { Logger } from '../log.js'
import type { Services } from '../services.js'
import { withClient } from './client-authentication.js'
import { registerRequestCap } from './request-cap.js'
import { noStore } from './no-store.js'

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
