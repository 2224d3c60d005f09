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

/** POSTs a form to the token endpoint. */
export function postToken(app: FastifyInstance, form: Record<string, string>, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST', url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(form).toString(),
  })
}

export function basic(id: string, secret: string): Record<string, string> {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
  return { authorization: 'Basic ' + Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64') }
}

/** An admin access token from the bootstrap client. */
export async function adminToken(app: FastifyInstance): Promise<string> {
  const r = await postToken(app, { grant_type: 'client_credentials' }, basic(ADMIN.clientId, ADMIN.clientSecret))
  if (r.statusCode !== 200) throw new Error(`admin token: ${r.statusCode} ${r.body}`)
  return r.json().access_token
}

export async function adminRequest(app: FastifyInstance, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) {
  const token = await adminToken(app)
  return app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
}
