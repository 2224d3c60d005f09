/**
 * `sigil/fastify`: a Fastify 5 plugin that verifies Sigil access tokens on every route of the
 * scope it is registered in, and answers failures as RFC 6750 §3 says.
 * @packageDocumentation
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import {
  assertScopes, bearerChallenge, createVerifier, extractBearerToken, VerifierOptionsError, VerifyError,
  type AccessTokenClaims, type Verifier, type VerifierOptions,
} from '../verify/index.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access-token claims; set before any route handler of a protected scope runs. */
    auth: AccessTokenClaims
  }
  interface FastifyInstance {
    sigilAuth: { verifier: Verifier; realm: string }
  }
}

export type SigilAuthOptions = (VerifierOptions | { verifier: Verifier }) & {
  /** The `realm` of every `WWW-Authenticate: Bearer` challenge. Default `"api"`. */
  realm?: string
}

const plugin: FastifyPluginAsync<SigilAuthOptions> = async (app, opts) => {
  const realm = opts.realm ?? 'api'
  if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(realm)) throw new VerifierOptionsError('realm must be printable ASCII without " or \\')
  const verifier = 'verifier' in opts ? opts.verifier : createVerifier(opts)
  app.decorate('sigilAuth', { verifier, realm })
  app.decorateRequest('auth', null as unknown as AccessTokenClaims)
  app.addHook('onRequest', async (req, reply) => {
    try {
      req.auth = await verifier.verify(extractBearerToken(req.headers.authorization))
    } catch (err) {
      return refuse(req, reply, err, realm)
    }
  })
}

/**
 * Verifies `Authorization: Bearer` on every request of the scope it is registered in (with
 * fastify-plugin, that is the registering scope: register it inside the context that holds the
 * protected routes). Verified claims land on `request.auth`; failures are answered with
 * `{error, error_description}` and the RFC 6750 `WWW-Authenticate` challenge.
 */
export const sigilAuth = fp(plugin, { fastify: '5.x', name: 'sigil-auth' })
export default sigilAuth

/**
 * A route `preHandler` that answers 403 `insufficient_scope` (with the `scope` challenge
 * attribute) unless the verified token holds every one of `scopes`. The route must be in a
 * scope where {@link sigilAuth} is registered; otherwise the request fails with a 500.
 */
export function requireScopes(...scopes: string[]) {
  return async function requireScopesHook(req: FastifyRequest, reply: FastifyReply) {
    if (!req.auth) throw new Error('requireScopes() used on a route that sigilAuth does not protect')
    try {
      assertScopes(req.auth, scopes)
    } catch (err) {
      return refuse(req, reply, err, req.server.sigilAuth.realm)
    }
  }
}

function refuse(req: FastifyRequest, reply: FastifyReply, err: unknown, realm: string): FastifyReply {
  if (!(err instanceof VerifyError)) throw err
  req.log.info({ code: err.code, detail: err.message }, 'bearer token refused')
  const challenge = bearerChallenge(err, realm)
  if (challenge !== undefined) reply.header('www-authenticate', challenge)
  const error = err.bearerError ?? (err.status === 503 ? 'temporarily_unavailable' : 'unauthorized')
  return reply.code(err.status).send({ error, error_description: err.description })
}

export type { AccessTokenClaims, Verifier, VerifierOptions } from '../verify/index.js'
