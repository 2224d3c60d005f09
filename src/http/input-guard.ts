import type { FastifyInstance } from 'fastify'
import { InvalidRequest } from '../errors.js'

/** True when a string anywhere in `value` holds a NUL character. */
function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  if (depth > 32 || value === null || typeof value !== 'object') return false
  return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v, depth + 1))
}

/**
 * PostgreSQL text cannot hold NUL (U+0000), and no OAuth parameter, id or claim needs one: a
 * request carrying it anywhere (path, query, body) is `invalid_request` before any route runs,
 * instead of a database error.
 */
export function rejectNulCharacters(app: FastifyInstance): void {
  app.addHook('preHandler', async req => {
    if (containsNul(req.params) || containsNul(req.query) || containsNul(req.body)) {
      throw new InvalidRequest('NUL characters are not allowed')
    }
  })
}
