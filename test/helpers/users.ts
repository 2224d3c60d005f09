import type { FastifyInstance } from 'fastify'
import { adminRequest, basic } from './app.js'

export const WEB_SECRET = 'web-client-secret-0123456789-0123456789-abc'

/** Clients for the password grant: `spa` (public) and `web` (confidential, Basic, RS256). */
export async function registerLoginClients(app: FastifyInstance, scopes = ['openid', 'profile', 'email', 'read']): Promise<void> {
  for (const payload of [
    { client_id: 'spa', token_endpoint_auth_method: 'none', grant_types: ['password'], scopes },
    { client_id: 'web', client_secret: WEB_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['password'], scopes, signing_alg: 'RS256' },
  ]) {
    const r = await adminRequest(app, 'POST', '/admin/clients', payload)
    if (r.statusCode !== 201) throw new Error(`client ${payload.client_id}: ${r.statusCode} ${r.body}`)
  }
}

/** Creates a user through the admin API; returns its id. */
export async function createUser(app: FastifyInstance, user: { username: string; password: string; email?: string; claims?: object }): Promise<string> {
  const r = await adminRequest(app, 'POST', '/admin/users', user)
  if (r.statusCode !== 201) throw new Error(`user ${user.username}: ${r.statusCode} ${r.body}`)
  return r.json().id
}

export type LoginClient = 'spa' | 'web'

/** A password-grant request through `spa` (client_id in the body) or `web` (Basic). */
export function login(
  app: FastifyInstance, client: LoginClient, fields: Record<string, string>,
  opts: { remoteAddress?: string; headers?: Record<string, string> } = {},
) {
  const form = { grant_type: 'password', ...(client === 'spa' ? { client_id: 'spa' } : {}), ...fields }
  return app.inject({
    method: 'POST', url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(client === 'web' ? basic('web', WEB_SECRET) : {}), ...opts.headers },
    payload: new URLSearchParams(form).toString(),
    ...(opts.remoteAddress === undefined ? {} : { remoteAddress: opts.remoteAddress }),
  })
}
