import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import type { Clock } from '../../src/clock.js'
import type { Config } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { createServices, type Services } from '../../src/services.js'
import { openTestDatabase, openTestStore, type Backend } from './backends.js'
import { fixedClock } from './clock.js'
import { testConfig } from './config.js'

export const ADMIN = { clientId: 'admin', clientSecret: 'admin-secret-that-is-long-enough-0123456789' }

export interface TestApp {
  app: FastifyInstance
  services: Services
  clock: ReturnType<typeof fixedClock>
}

interface TestLike { teardown(fn: () => unknown): void }

/** A started service on the given backend with the bootstrap admin client; closed at teardown. */
export async function buildTestApp(t: TestLike, backend: Backend, opts: { config?: Partial<Config>; clock?: Clock } = {}): Promise<TestApp> {
  const clock = (opts.clock ?? fixedClock()) as ReturnType<typeof fixedClock>
  const config = testConfig({ adminClient: ADMIN, ...opts.config })
  const db = await openTestDatabase(t, backend.db)
  const store = await openTestStore(t, backend.store)
  const services = await createServices(config, { clock, log: createLogger('silent'), db, store, keyReloadMs: 60_000 })
  await services.start()
  const app = await buildApp(services)
  t.teardown(async () => {
    await app.close()
    await services.close()
  })
  return { app, services, clock }
}

// One set of request helpers for every test (issue 15): credentials, the token endpoint,
// logins and refreshes; sigil-http.ts speaks the same over real HTTP.

/** The password of every test user unless a test says otherwise. */
export const PASSWORD = 'correct horse battery staple'
/** The secret of the confidential client `web` (password and refresh_token grants). */
export const WEB_SECRET = 'web-client-secret-0123456789-0123456789-abc'

/** An `Authorization: Basic` value; RFC 6749 §2.3.1: id and secret are form-urlencoded first. */
export function basicAuthorization(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
  return 'Basic ' + Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')
}

/** {@link basicAuthorization} as a headers object. */
export function basic(id: string, secret: string): Record<string, string> {
  return { authorization: basicAuthorization(id, secret) }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** POSTs a form to `url`. */
export const form = (app: FastifyInstance, url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(fields).toString() })

/** POSTs a form to the token endpoint. */
export const postToken = (app: FastifyInstance, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  form(app, '/oauth2/token', fields, headers)

/** A user (alice by default, with {@link PASSWORD}) logs in through the public client `app`; throws unless 200. */
export async function loginThroughApp(app: FastifyInstance, scope = 'openid read write', username = 'alice'): Promise<{ access_token: string; refresh_token: string; scope: string; id_token?: string }> {
  const r = await postToken(app, { grant_type: 'password', client_id: 'app', username, password: PASSWORD, scope })
  if (r.statusCode !== 200) throw new Error(r.body)
  return r.json()
}

/** The refresh grant through the public client `app` (or `extra.client_id`). */
export const refresh = (app: FastifyInstance, token: string, extra: Record<string, string> = {}) =>
  postToken(app, { grant_type: 'refresh_token', client_id: 'app', refresh_token: token, ...extra })

/** A client_credentials access token; throws unless 200. */
export async function clientToken(app: FastifyInstance, id: string, secret: string): Promise<string> {
  const r = await postToken(app, { grant_type: 'client_credentials' }, basic(id, secret))
  if (r.statusCode !== 200) throw new Error(`token for ${id}: ${r.statusCode} ${r.body}`)
  return r.json().access_token
}

/** An admin access token from the bootstrap client. */
export const adminToken = (app: FastifyInstance): Promise<string> => clientToken(app, ADMIN.clientId, ADMIN.clientSecret)

export async function adminRequest(app: FastifyInstance, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) {
  const token = await adminToken(app)
  return app.inject({ method, url, headers: bearer(token), ...(payload === undefined ? {} : { payload: payload as object }) })
}

/** Creates a user through the admin API; returns its id. */
export async function createUser(app: FastifyInstance, user: { username: string; password: string; email?: string; claims?: object }): Promise<string> {
  const r = await adminRequest(app, 'POST', '/admin/users', user)
  if (r.statusCode !== 201) throw new Error(`user ${user.username}: ${r.statusCode} ${r.body}`)
  return r.json().id
}

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

export type LoginClient = 'spa' | 'web'

/** A password-grant request through `spa` (client_id in the body) or `web` (Basic), as is. */
export function login(
  app: FastifyInstance, client: LoginClient, fields: Record<string, string>,
  opts: { remoteAddress?: string; headers?: Record<string, string> } = {},
) {
  const body = { grant_type: 'password', ...(client === 'spa' ? { client_id: 'spa' } : {}), ...fields }
  return app.inject({
    method: 'POST', url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(client === 'web' ? basic('web', WEB_SECRET) : {}), ...opts.headers },
    payload: new URLSearchParams(body).toString(),
    ...(opts.remoteAddress === undefined ? {} : { remoteAddress: opts.remoteAddress }),
  })
}
