import type { FastifyInstance } from 'fastify'
import { adminRequest, basic, bearer, form, PASSWORD } from './app.js'

// Every surface where Sigil accepts its own tokens (/admin, /userinfo, introspection,
// revocation, the refresh grant), for tests of what ends a token (issue 11). Requests are
// made with the helpers of app.ts (loginThroughApp, refresh, clientToken).

export const OPS_SECRET = 'ops-client-secret-0123456789-0123456789-abcd'
export const RS_SECRET = 'resource-server-secret-0123456789-0123456789'

/** A public app with refresh tokens; `ops`, a second admin client; `rs`, a resource server that introspects. */
export const APP = { client_id: 'app', token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['openid', 'read', 'write'] }
export const OPS = { client_id: 'ops', client_secret: OPS_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], scopes: ['admin'] }
const RS = { client_id: 'rs', client_secret: RS_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'] }

export async function register(app: FastifyInstance, payload: object): Promise<void> {
  const r = await adminRequest(app, 'POST', '/admin/clients', payload)
  if (r.statusCode !== 201) throw new Error(`${r.statusCode} ${r.body}`)
}

/** Registers APP, OPS and RS and the user alice; returns alice's id. */
export async function setUpSurfaces(app: FastifyInstance): Promise<string> {
  for (const payload of [APP, OPS, RS]) await register(app, payload)
  const r = await adminRequest(app, 'POST', '/admin/users', { username: 'alice', password: PASSWORD })
  if (r.statusCode !== 201) throw new Error(r.body)
  return r.json().id
}

export const introspect = async (app: FastifyInstance, token: string) => (await form(app, '/oauth2/introspect', { token }, basic('rs', RS_SECRET))).json()
export const userinfo = (app: FastifyInstance, token: string) => app.inject({ url: '/userinfo', headers: bearer(token) })
/** GET /admin/clients with `token`: 200 for a live admin token. */
export const listClients = (app: FastifyInstance, token: string) => app.inject({ url: '/admin/clients', headers: bearer(token) })
