import type { FastifyInstance } from 'fastify'
import { ADMIN, basicAuthorization, WEB_SECRET } from './app.js'

/** A confidential client (client_credentials unless `grant_types` says otherwise), as registered over the admin API. */
export interface ClientSpec {
  client_id: string
  client_secret: string
  grant_types?: Array<'client_credentials' | 'password' | 'refresh_token'>
  scopes?: string[]
  audience?: string | string[]
  signing_alg?: 'ES256' | 'RS256'
  token_profile?: 'rfc9068' | 'simplejwt'
}

export interface SigilHttp {
  createClient(spec: ClientSpec): Promise<void>
  /** POST /admin/clients with a payload as is (any client kind); returns the 201 body. */
  registerClient(payload: Record<string, unknown>): Promise<unknown>
  /** DELETE /admin/clients/:client_id. */
  deleteClient(clientId: string): Promise<void>
  /** DELETE /admin/users/:id/consents/:client_id: the user is asked for consent again. */
  revokeConsent(userId: string, clientId: string): Promise<void>
  /** POST /admin/users; returns the new user's id. */
  createUser(user: { username: string; password: string }): Promise<string>
  /** An access token for a client registered with {@link createClient}: client_credentials unless `form` names another grant. */
  token(client: Pick<ClientSpec, 'client_id' | 'client_secret'>, form?: Record<string, string>): Promise<string>
  /** POST /admin/keys/rotate with `force: true` unless `force` is false; returns the new key states. */
  rotate(alg: 'ES256' | 'RS256', force?: boolean): Promise<{ current: { kid: string }; next: { kid: string }; retiring: { kid: string } }>
  keys(): Promise<Array<{ kid: string; alg: string; state: string }>>
}

/** Talks to a listening Sigil over real HTTP, as its users do: admin API and token endpoint. */
export function sigilHttp(issuer: string): SigilHttp {
  const tokenFor = async (id: string, secret: string, form: Record<string, string> = {}) => {
    const r = await fetch(`${issuer}/oauth2/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', ...form }),
      headers: { authorization: basicAuthorization(id, secret) },
    })
    if (r.status !== 200) throw new Error(`token for ${id}: ${r.status} ${await r.text()}`)
    return ((await r.json()) as { access_token: string }).access_token
  }
  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${issuer}${path}`, {
      method, headers: { authorization: `Bearer ${await tokenFor(ADMIN.clientId, ADMIN.clientSecret)}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`)
    return (r.status === 204 ? undefined : r.json()) as Promise<unknown>
  }
  return {
    createClient: async spec => {
      await admin('POST', '/admin/clients', { token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], ...spec })
    },
    registerClient: payload => admin('POST', '/admin/clients', payload),
    deleteClient: async clientId => { await admin('DELETE', `/admin/clients/${encodeURIComponent(clientId)}`) },
    revokeConsent: async (userId, clientId) => {
      await admin('DELETE', `/admin/users/${encodeURIComponent(userId)}/consents/${encodeURIComponent(clientId)}`)
    },
    createUser: async user => ((await admin('POST', '/admin/users', user)) as { id: string }).id,
    token: (client, form) => tokenFor(client.client_id, client.client_secret, form),
    rotate: async (alg, force = true) => admin('POST', '/admin/keys/rotate', { alg, force }) as ReturnType<SigilHttp['rotate']>,
    keys: async () => ((await admin('GET', '/admin/keys')) as { keys: Array<{ kid: string; alg: string; state: string }> }).keys,
  }
}

/**
 * Counts requests reaching a listening app whose path (without query) is `path`, per full URL,
 * by listening on its Node server: the issuer's own view, not the client's.
 */
export function countRequests(app: FastifyInstance, path: string): { total(): number; url(url: string): number } {
  const seen = new Map<string, number>()
  app.server.on('request', (req: { url?: string }) => {
    const url = req.url ?? ''
    if (url.split('?')[0] === path) seen.set(url, (seen.get(url) ?? 0) + 1)
  })
  return {
    total: () => [...seen.values()].reduce((a, b) => a + b, 0),
    url: url => seen.get(url) ?? 0,
  }
}

/** The confidential client `web` for the password and refresh_token grants, with its Basic header. */
export const WEB_CLIENT = { client_id: 'web', client_secret: WEB_SECRET }
export const WEB_BASIC = basicAuthorization(WEB_CLIENT.client_id, WEB_CLIENT.client_secret)
