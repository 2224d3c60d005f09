import cors from '@fastify/cors'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import { TemporarilyUnavailable } from '../errors.js'
import type { Services } from '../services.js'

/** Probes keep answering under load: shedding them would hide the overload. (The scrape is on the management listener, which sheds nothing.) */
const NEVER_SHED = new Set(['/healthz', '/readyz'])

const RETRY_AFTER_SEC = 10

/**
 * The lag is averaged over this window: one long stall (a GC, loading a large module) is not
 * overload and must not shed anything; only a loop that stays slow for seconds is.
 */
const SAMPLE_INTERVAL_MS = 5000

/**
 * The security headers of every response, computed once: what @fastify/helmet sent with
 * Sigil's configuration (a `'none'` CSP, since nothing here is HTML, and no HSTS, which is the
 * TLS terminator's: deploy/nginx.conf sends it). Hosted HTML pages replace the CSP with their
 * own (hosted/page-reply.ts).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
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
 * Security headers, CORS for CORS_ORIGINS, and load shedding: while the event loop lags more
 * than `maxEventLoopDelayMs` (mean over 5 s), requests other than the probes get
 * 503 `temporarily_unavailable` with Retry-After instead of queueing until they time out.
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
  // Heap and RSS limits stay off: token work is CPU-bound, and the event loop shows overload first.
  await app.register(underPressure, {
    maxEventLoopDelay: s.config.maxEventLoopDelayMs,
    sampleInterval: SAMPLE_INTERVAL_MS,
    pressureHandler: async (req, reply, type, value) => {
      if (NEVER_SHED.has(req.routeOptions.url ?? '')) return
      reply.header('retry-after', String(RETRY_AFTER_SEC))
      throw new TemporarilyUnavailable(`under pressure: ${type} ${value ?? ''}`)
    },
  })
}
