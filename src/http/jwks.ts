import type { FastifyPluginAsync } from 'fastify'
import { SIGNING_ALGS, type SigningAlg } from '../config.js'
import { InvalidRequest } from '../errors.js'
import type { Services } from '../services.js'

/** RFC 7517 key set. Bodies and ETags are computed by the key ring once per key change. */
export const jwksRoutes = (s: Services): FastifyPluginAsync => async app => {
  const cacheControl = `public, max-age=${s.config.jwksMaxAgeSec}`
  app.get<{ Querystring: { alg?: unknown } }>('/.well-known/jwks.json', async (req, reply) => {
    const alg = req.query.alg
    if (alg !== undefined && !SIGNING_ALGS.includes(alg as SigningAlg)) {
      throw new InvalidRequest(`alg must be one of ${SIGNING_ALGS.join(', ')}`)
    }
    const doc = s.ring.jwks(alg as SigningAlg | undefined)
    reply.header('cache-control', cacheControl).header('etag', doc.etag)
    if (matchesEtag(req.headers['if-none-match'], doc.etag)) return reply.status(304).send()
    // The prebuilt bytes: nothing serialized or encoded per request.
    return reply.type('application/jwk-set+json').send(doc.bytes)
  })
}

/** RFC 9110 §13.1.2: a list of entity tags or `*`; weak comparison. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  // What a cache sends back: the very tag, compared without splitting anything.
  if (header === etag) return true
  if (header.trim() === '*') return true
  return header.split(',').some(t => t.trim().replace(/^W\//, '') === etag)
}
