import type { FastifyInstance } from 'fastify'
import { MalformedInput } from '../errors.js'
import { limitIpFailures, type AttemptLimitDeps } from '../rate-limit/attempt-limits.js'

/** True when a string anywhere in `value` holds a NUL character. Allocates nothing. */
function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  if (depth > 32 || value === null || typeof value !== 'object') return false
  if (Array.isArray(value)) {
    for (const v of value) if (containsNul(v, depth + 1)) return true
    return false
  }
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue
    if (k.includes('\u0000') || containsNul((value as Record<string, unknown>)[k], depth + 1)) return true
  }
  return false
}

/**
 * PostgreSQL text cannot hold NUL (U+0000), and no OAuth parameter, id or claim needs one: a
 * request carrying it anywhere (path, query, body) is `invalid_request` before any route runs,
 * instead of a database error. No client sends one, so it counts as a failure of the client
 * IP (RATE_LIMIT_IP_FAILURES), like a failed authentication: 429 once that IP is over the limit.
 */
export function rejectNulCharacters(app: FastifyInstance, deps: AttemptLimitDeps): void {
  // Synchronous on the common path (no NUL): no promise per request.
  app.addHook('preHandler', (req, _reply, done) => {
    if (!containsNul(req.params) && !containsNul(req.query) && !containsNul(req.body)) return done()
    limitIpFailures(deps, req.ip, async () => { throw new MalformedInput('NUL characters are not allowed') })
      .then(() => done(), (err: Error) => done(err))
  })
}
