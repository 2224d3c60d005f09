import type { FastifyRequest } from 'fastify'
import { InvalidToken } from '../errors.js'

/** RFC 6750 §2.1: the token in `Authorization: Bearer …`. Throws InvalidToken when absent or malformed. */
export function bearerToken(req: FastifyRequest): string {
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(req.headers.authorization ?? '')
  if (!match) throw new InvalidToken('no bearer token')
  return match[1]!
}
