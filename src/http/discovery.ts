import type { FastifyPluginAsync } from 'fastify'
import { SIGNING_ALGS } from '../config.js'
import { AUTH_METHODS } from '../clients/client.js'
import { SUPPORTED_GRANT_TYPES } from '../grants/index.js'
import type { Services } from '../services.js'

/** RFC 8414 and OpenID Connect Discovery 1.0 metadata, built once. */
export function discoveryDocument(issuer: string) {
  return {
    issuer,
    token_endpoint: `${issuer}/oauth2/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    userinfo_endpoint: `${issuer}/userinfo`,
    grant_types_supported: SUPPORTED_GRANT_TYPES,
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
    introspection_endpoint_auth_methods_supported: AUTH_METHODS.filter(m => m !== 'none'),
    scopes_supported: ['openid', 'profile', 'email', 'admin'],
    // Sigil has no authorization endpoint: no response type is served.
    response_types_supported: [],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...SIGNING_ALGS],
    token_endpoint_auth_signing_alg_values_supported: [...SIGNING_ALGS],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'jti', 'client_id', 'scope', 'sid', 'preferred_username', 'email'],
  }
}

export const discoveryRoutes = (s: Services): FastifyPluginAsync => async app => {
  const body = JSON.stringify(discoveryDocument(s.config.issuer))
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    app.get(path, async (_req, reply) => reply.header('cache-control', 'public, max-age=3600').type('application/json').send(body))
  }
}
