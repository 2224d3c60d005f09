import type { FastifyInstance } from 'fastify'

/**
 * Marks every response of this plugin scope uncacheable: tokens, introspection answers, user
 * claims and admin data (RFC 6749 §5.1 asks it of token responses; `Pragma` for HTTP/1.0 caches).
 */
export function noStore(app: FastifyInstance): void {
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    done(null, payload)
  })
}
