import type { FastifyInstance } from 'fastify'
import { MalformedInput } from '../errors.js'
import { limitIpFailures, type AttemptLimitDeps } from '../throttle/attempt-limits.js'

/** True when a string anywhere in `value` holds a NUL character. */
function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  if (depth > 32 || value === null || typeof value !== 'object') return false
  return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v, depth + 1))
}

/**
 * PostgreSQL text cannot hold NUL (U+0000), and no OAuth parameter, id or claim needs one: a
 * request carrying it anywhere (path, query, body) is `invalid_request` before any route runs,
 * instead of a database error. No client sends one, so it counts as a failure of the client
 * IP (RATE_LIMIT_IP_FAILURES), like a failed authentication: 429 once that IP is over the limit.
 */
export function rejectNulCharacters(app: FastifyInstance, deps: AttemptLimitDeps): void {
  app.addHook('preHandler', async req => {
    if (containsNul(req.params) || containsNul(req.query) || containsNul(req.body)) {
      await limitIpFailures(deps, req.ip, async () => { throw new MalformedInput('NUL characters are not allowed') })
    }
  })
}
