/**
 * node-oidc-provider configured as Sigil is for client_credentials: the same two confidential
 * clients (client_secret_basic, scope `read`), JWT access tokens for one resource server
 * (resource indicators, `accessTokenFormat: 'jwt'`), ES256 or RS256 per client, its default
 * in-memory adapter. Started by bench/run.ts (PORT); not a server to deploy.
 *
 * Not equivalent, so not run: the password grant (oidc-provider has none), refresh on Redis
 * (its refresh tokens come from the authorization-code flow and its store is an adapter of
 * your own), introspection (it refuses structured, i.e. JWT, access tokens), and the JWKS `304`
 * (its JWKS has no ETag).
 */
import { createServer } from 'node:http'
import { exportJWK, generateKeyPair } from 'jose'
import Provider, { type Configuration } from 'oidc-provider'
import { AUDIENCE, CC_CLIENTS, SCOPE } from '../lib/fixtures.js'

const port = Number(process.env.PORT ?? 3000)
const privateJwk = async (alg: 'ES256' | 'RS256') => ({
  ...(await exportJWK((await generateKeyPair(alg, { extractable: true })).privateKey)), alg, use: 'sig', kid: `oidc-${alg.toLowerCase()}`,
})

const configuration: Configuration = {
  clients: Object.values(CC_CLIENTS).map(c => ({
    client_id: c.id, client_secret: c.secret, token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: SCOPE,
  })),
  jwks: { keys: [await privateJwk('ES256'), await privateJwk('RS256')] },
  scopes: [SCOPE],
  ttl: { ClientCredentials: 900 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, _resource, client) => ({
        scope: SCOPE, audience: AUDIENCE, accessTokenTTL: 900, accessTokenFormat: 'jwt',
        jwt: { sign: { alg: client.clientId === CC_CLIENTS.RS256.id ? 'RS256' : 'ES256' } },
      }),
    },
  },
}

const provider = new Provider(`http://127.0.0.1:${port}`, configuration)
createServer(provider.callback()).listen(port, '127.0.0.1')
