import type { FastifyRequest } from 'fastify'
import type { Client } from '../clients/client.js'
import { authenticateClient } from '../clients/client-auth.js'
import { findClient } from '../clients/client-registry.js'
import type { Services } from '../services.js'
import { limitIpFailures, type IpSlotGate } from '../rate-limit/attempt-limits.js'

/**
 * Authenticates the client of a token, revocation or introspection request (Basic, post or
 * none), then runs `action` for it; failed authentications count towards the client IP's
 * RATE_LIMIT_IP_FAILURES, as do failed grants thrown by `action`. `gateInAttempt`: see
 * limitIpFailures (the IP slot check is left to `action`'s store step, given as `ipSlot`).
 */
export function withClient<T>(
  s: Services, req: FastifyRequest, params: Record<string, string | undefined>,
  action: (client: Client, ipSlot?: IpSlotGate) => Promise<T>, opts: { gateInAttempt?: boolean } = {},
): Promise<T> {
  return limitIpFailures(s, req.ip, async ipSlot => {
    const client = await authenticateClient(
      { findClient: id => findClient(s.clients, id), secretKey: s.clients.secretKey },
      { authorization: req.headers.authorization, clientId: params.client_id, clientSecret: params.client_secret },
    )
    return action(client, ipSlot)
  }, opts)
}
