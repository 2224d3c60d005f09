import type { FastifyRequest } from 'fastify'
import { InvalidToken, MissingToken } from '../errors.js'

/**
 * RFC 6750 §2.1: the token in `Authorization: Bearer …`. Throws {@link MissingToken} when the
 * request has no Bearer credentials at all, {@link InvalidToken} when they are malformed.
 */
export function bearerToken(req: FastifyRequest): string {
  if (!/^Bearer(?: |$)/i.test(req.headers.authorization ?? '')) throw new MissingToken()
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(req.headers.authorization ?? '')
  if (!match) throw new InvalidToken('no bearer token')
  return match[1]!
}
