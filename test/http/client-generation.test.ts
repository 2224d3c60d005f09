import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/log.js'
import { createServices } from '../../src/services.js'
import { ADMIN, adminRequest, basic, buildTestApp, postToken } from '../helpers/app.js'
import { backends, openTestDatabase, openTestStore } from '../helpers/backends.js'
import { fixedClock } from '../helpers/clock.js'
import { testConfig } from '../helpers/config.js'
import { buildTestApps } from '../helpers/instances.js'

// Issue 11, deliverable 1: deleting a client ends what it holds; so do registering its
// client_id again, rotating its secret and narrowing it. The fixed clock never moves here, so
// every change happens in the same second as the tokens it must end (and those it must not).

const OPS_SECRET = 'ops-client-secret-0123456789-0123456789-abcd'
const RS_SECRET = 'resource-server-secret-0123456789-0123456789'
const PASSWORD = 'correct horse battery staple'

const APP = { client_id: 'app', token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['openid', 'read', 'write'] }
const OPS = { client_id: 'ops', client_secret: OPS_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], scopes: ['admin'] }

async function register(app: FastifyInstance, payload: object): Promise<void> {
  const r = await adminRequest(app, 'POST', '/admin/clients', payload)
  if (r.statusCode !== 201) throw new Error(`${r.statusCode} ${r.body}`)
}
async function remove(app: FastifyInstance, clientId: string): Promise<void> {
  const r = await adminRequest(app, 'DELETE', `/admin/clients/${clientId}`)
  if (r.statusCode !== 204) throw new Error(`${r.statusCode} ${r.body}`)
}
/** An app (password + refresh), a resource server that introspects, an extra admin client and a user. */
async function setUp(app: FastifyInstance): Promise<void> {
  for (const payload of [APP, OPS, { client_id: 'rs', client_secret: RS_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'] }]) {
    await register(app, payload)
  }
  const r = await adminRequest(app, 'POST', '/admin/users', { username: 'alice', password: PASSWORD })
  if (r.statusCode !== 201) throw new Error(r.body)
}

const form = (app: FastifyInstance, url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(fields).toString() })
const login = async (app: FastifyInstance) => {
  const r = await postToken(app, { grant_type: 'password', client_id: 'app', username: 'alice', password: PASSWORD, scope: 'openid read write' })
  if (r.statusCode !== 200) throw new Error(r.body)
  return r.json() as { access_token: string; refresh_token: string }
}
const clientToken = async (app: FastifyInstance, id: string, secret: string) => {
  const r = await postToken(app, { grant_type: 'client_credentials' }, basic(id, secret))
  if (r.statusCode !== 200) throw new Error(r.body)
  return r.json().access_token as string
}
const refresh = (app: FastifyInstance, token: string) => postToken(app, { grant_type: 'refresh_token', client_id: 'app', refresh_token: token })
const introspect = async (app: FastifyInstance, token: string) => (await form(app, '/oauth2/introspect', { token }, basic('rs', RS_SECRET))).json()
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const userinfo = (app: FastifyInstance, token: string) => app.inject({ url: '/userinfo', headers: bearer(token) })
const listClients = (app: FastifyInstance, token: string) => app.inject({ url: '/admin/clients', headers: bearer(token) })

for (const backend of backends()) {
  t.test(backend.name, async t => {
    t.test('issue 11: a deleted admin client\'s token is refused at /admin and by introspection at once, and creates nothing', async t => {
      const { app } = await buildTestApp(t, backend)
      await setUp(app)
      const ops = await clientToken(app, 'ops', OPS_SECRET)
      t.equal((await listClients(app, ops)).statusCode, 200, 'works while the client exists')
      t.equal((await introspect(app, ops)).active, true)

      await remove(app, 'ops')
      const read = await listClients(app, ops)
      t.equal(read.statusCode, 401)
      t.equal(read.json().error, 'invalid_token')
      const create = await app.inject({ method: 'POST', url: '/admin/clients', headers: bearer(ops), payload: { ...OPS, client_id: 'ops2' } })
      t.equal(create.statusCode, 401, 'cannot make itself a new admin client')
      t.same(await introspect(app, ops), { active: false }, 'exactly {"active":false}')
      t.equal((await adminRequest(app, 'GET', '/admin/clients/ops2')).statusCode, 404)
    })

    t.test('issue 11: deleting a client ends its users\' tokens at /userinfo and introspection, and its refresh families', async t => {
      const { app } = await buildTestApp(t, backend)
      await setUp(app)
      const tokens = await login(app)
      t.equal((await userinfo(app, tokens.access_token)).statusCode, 200)
      t.equal((await introspect(app, tokens.refresh_token)).active, true)

      await remove(app, 'app')
      const info = await userinfo(app, tokens.access_token)
      t.equal(info.statusCode, 401)
      t.match(info.headers['www-authenticate'], /error="invalid_token"/)
      t.same(await introspect(app, tokens.access_token), { active: false })
      t.same(await introspect(app, tokens.refresh_token), { active: false }, 'its refresh family is dead')
    })

    t.test('issue 11: registering the same client_id again, narrower, brings back no old family or token', async t => {
      const { app } = await buildTestApp(t, backend)
      await setUp(app)
      const old = await login(app)
      await remove(app, 'app')
      await register(app, { ...APP, scopes: ['openid', 'read'] })

      const r = await refresh(app, old.refresh_token)
      t.equal(r.statusCode, 400, 'the old refresh token does not yield the old, wider scope')
      t.equal(r.json().error, 'invalid_grant')
      t.same(await introspect(app, old.access_token), { active: false })
      t.same(await introspect(app, old.refresh_token), { active: false })
      t.equal((await userinfo(app, old.access_token)).statusCode, 401)
      // Revocation treats the old token as dead: answered 200, and nothing comes back to life.
      t.equal((await form(app, '/oauth2/revoke', { token: old.access_token, client_id: 'app' })).statusCode, 200)
      t.same(await introspect(app, old.access_token), { active: false })

      // In the same second: the new registration's own tokens are not misjudged as old ones.
      const fresh = (await postToken(app, { grant_type: 'password', client_id: 'app', username: 'alice', password: PASSWORD })).json()
      t.equal(fresh.scope, 'openid read')
      t.equal((await introspect(app, fresh.access_token)).active, true)
      t.equal((await userinfo(app, fresh.access_token)).statusCode, 200)
      const next = await refresh(app, fresh.refresh_token)
      t.equal(next.statusCode, 200, next.body)
      t.equal(next.json().scope, 'openid read')
    })

    t.test('issue 11: a new admin secret (SIGIL_ADMIN_CLIENT_SECRET) or a narrowed admin client ends the tokens issued before; an unchanged restart ends nothing', async t => {
      const clock = fixedClock()
      const db = await openTestDatabase(t, backend.db)
      const store = await openTestStore(t, backend.store)
      const start = async (admin: typeof ADMIN) => {
        const services = await createServices(testConfig({ adminClient: admin }), { clock, log: createLogger('silent'), db, store, keyReloadMs: 60_000 })
        await services.start()
        const app = await buildApp(services)
        t.teardown(() => app.close())
        return { app, services }
      }
      const first = await start(ADMIN)
      const before = await clientToken(first.app, ADMIN.clientId, ADMIN.clientSecret)

      const same = await start(ADMIN)
      t.equal((await listClients(same.app, before)).statusCode, 200, 'the same secret and scopes keep the tokens')

      // Widen the admin client behind the service's back, then let a start narrow it back.
      await db.prisma.client.update({ where: { clientId: ADMIN.clientId }, data: { scopes: ['admin', 'extra'] } })
      first.services.clients.cache.evict(ADMIN.clientId)
      const wide = (await postToken(first.app, { grant_type: 'client_credentials', scope: 'admin extra' }, basic(ADMIN.clientId, ADMIN.clientSecret))).json()
      t.equal(wide.scope, 'admin extra')
      const narrowed = await start(ADMIN)
      t.equal((await listClients(narrowed.app, wide.access_token)).statusCode, 401, 'narrowing the client ends its tokens')

      const rotated = await start({ clientId: ADMIN.clientId, clientSecret: 'a-brand-new-admin-secret-0123456789-0123456789' })
      t.equal((await listClients(rotated.app, before)).statusCode, 401, 'a token issued under the old secret is refused')
      const after = await clientToken(rotated.app, ADMIN.clientId, 'a-brand-new-admin-secret-0123456789-0123456789')
      t.equal((await listClients(rotated.app, after)).statusCode, 200, 'the new secret\'s tokens work, in the same second')
    })

    t.test('issue 11: a second instance refuses a deleted client\'s token as soon as the change reaches it', async t => {
      const [a, b] = await buildTestApps(t, backend, 2)
      await setUp(a!.app)
      const ops = await clientToken(a!.app, 'ops', OPS_SECRET)
      t.equal((await listClients(b!.app, ops)).statusCode, 200, 'the other instance has the client cached')

      await remove(a!.app, 'ops')
      t.equal((await listClients(a!.app, ops)).statusCode, 401, 'the deleting instance at once')
      // The other instance hears of it through the store's clients channel: one message, no reload period.
      const started = Date.now()
      let status = 200
      while (status === 200 && Date.now() - started < CHANNEL_DEADLINE_MS) {
        status = (await listClients(b!.app, ops)).statusCode
        if (status === 200) await new Promise(resolve => setTimeout(resolve, 5))
      }
      t.equal(status, 401, `the other instance refused it after ${Date.now() - started} ms`)
      t.same(await introspect(b!.app, ops), { active: false })
    })
  })
}

/** Far below the client cache's 60 s: only the store's notification can make it in time. */
const CHANNEL_DEADLINE_MS = 1000
