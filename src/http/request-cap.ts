import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import { requestCapOptions } from '../rate-limit/request-cap.js'
import type { Services } from '../services.js'

/**
 * RATE_LIMIT_IP on the routes registered after it in `app`'s scope (see
 * rate-limit/request-cap.ts); 0: nothing is registered.
 */
export async function registerRequestCap(app: FastifyInstance, s: Services): Promise<void> {
  const options = requestCapOptions(s)
  if (options) await app.register(rateLimit, options)
}
