import cors from '@fastify/cors'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import { loadSheddingOptions } from '../rate-limit/load-shedding.js'
import type { Services } from '../services.js'

/**
 * The security headers of every response, computed once: what @fastify/helmet sent with
 * Sigil's configuration (a `'none'` CSP, since nothing here is HTML, and no HSTS, which is the
 * TLS terminator's: deploy/nginx.conf sends it). Hosted HTML pages replace the CSP with their
 * own (hosted/page-reply.ts).
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
})

const SECURITY_HEADER_PAIRS = Object.entries(SECURITY_HEADERS)

/**
 * Security headers, CORS for CORS_ORIGINS, and load shedding (rate-limit/load-shedding.ts).
 * Registered on the root instance before the routes.
 */
export async function registerProtection(app: FastifyInstance, s: Services): Promise<void> {
  // One synchronous hook copying precomputed pairs: no per-request option handling or middleware chain.
  app.addHook('onRequest', (_req, reply, done) => {
    for (const [name, value] of SECURITY_HEADER_PAIRS) reply.header(name, value)
    done()
  })
  if (s.config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...s.config.corsOrigins],
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
      exposedHeaders: ['www-authenticate', 'retry-after', 'x-request-id'],
      // Bearer tokens travel in headers, never cookies.
      credentials: false,
      maxAge: 600,
    })
  }
  await app.register(underPressure, loadSheddingOptions(s.config))
}
