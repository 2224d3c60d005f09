import type { FastifyRequest } from 'fastify'
import { InsufficientScope, InvalidToken } from '../../errors.js'
import type { Services } from '../../services.js'
import { verifyAccessToken } from '../../tokens/access-token.js'

/**
 * RFC 6750 bearer check for /admin: one of our own access tokens, meant for this issuer
 * (audience), with scope `admin`. 401 for a missing or bad token, 403 without the scope.
 */
export function requireAdmin(s: Services) {
  return async (req: FastifyRequest): Promise<void> => {
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(req.headers.authorization ?? '')
    if (!match) throw new InvalidToken('no bearer token')
    const claims = await verifyAccessToken(s, match[1]!)
    const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!audience.includes(s.config.issuer)) throw new InvalidToken('token is not meant for this issuer')
    if (!claims.scope.split(' ').includes('admin')) throw new InsufficientScope('admin')
    req.log.info({ event: 'admin_access', client_id: claims.client_id, route: req.routeOptions.url }, 'admin request')
  }
}
