import type { FastifyRequest } from 'fastify'
import { InsufficientScope, InvalidToken } from '../../errors.js'
import type { Services } from '../../services.js'
import { verifyLiveAccessToken } from '../../revocation/live-access-token.js'
import { bearerToken } from '../bearer.js'

/**
 * RFC 6750 bearer check for /admin: one of our own live (unrevoked) access tokens, meant for
 * this issuer (audience), issued to a client for itself (client_credentials), with scope
 * `admin`. 401 for a missing, bad or revoked token, 403 otherwise.
 */
export function requireAdmin(s: Services) {
  return async (req: FastifyRequest): Promise<void> => {
    const claims = await verifyLiveAccessToken(s.families, bearerToken(req))
    const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!audience.includes(s.config.issuer)) throw new InvalidToken('token is not meant for this issuer')
    if (!claims.scope.split(' ').includes('admin')) throw new InsufficientScope('admin')
    // A client allowed the password grant and scope admin must not make every user an admin.
    if (claims.sub !== claims.client_id || claims.sid !== undefined) throw new InsufficientScope('admin')
    req.log.info({ event: 'admin_access', client_id: claims.client_id, route: req.routeOptions.url }, 'admin request')
  }
}
