import type { FastifyPluginAsync } from 'fastify'
import { SIGNING_ALGS } from '../config.js'
import { AUTH_METHODS, GRANT_TYPES } from '../clients/client.js'
import type { Services } from '../services.js'

/** RFC 8414 and OpenID Connect Discovery 1.0 metadata, built once. */
function discoveryDocument(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth2/authorize`,
    token_endpoint: `${issuer}/oauth2/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    userinfo_endpoint: `${issuer}/userinfo`,
    end_session_endpoint: `${issuer}/oauth2/logout`,
    grant_types_supported: GRANT_TYPES,
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
    introspection_endpoint_auth_methods_supported: AUTH_METHODS.filter(m => m !== 'none'),
    scopes_supported: ['openid', 'profile', 'email', 'admin'],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    // OAuth 2.1: PKCE for every client, and only S256.
    code_challenge_methods_supported: ['S256'],
    prompt_values_supported: ['none', 'login', 'consent'],
    authorization_response_iss_parameter_supported: true,
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...SIGNING_ALGS],
    token_endpoint_auth_signing_alg_values_supported: [...SIGNING_ALGS],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'jti', 'client_id', 'scope', 'sid', 'preferred_username', 'email'],
  }
}

export const discoveryRoutes = (s: Services): FastifyPluginAsync => async app => {
  const body = JSON.stringify(discoveryDocument(s.config.issuer))
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    app.get(path, async (_req, reply) => reply.header('cache-control', 'public, max-age=3600').type('application/json').send(body))
  }
}
