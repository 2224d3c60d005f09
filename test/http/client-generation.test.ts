import type { FastifyInstance } from 'fastify'
import t from 'tap'
import {
  adminRequest, adminToken, basic, bearer, buildTestApp, clientToken, form, loginThroughApp, PASSWORD, postToken, refresh,
} from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { APP, introspect, listClients, OPS, OPS_SECRET, register, setUpSurfaces, userinfo } from '../helpers/token-surfaces.js'

// Issue 11, deliverable 1: deleting a client ends what it holds; so do registering its
// client_id again, rotating its secret and narrowing it. The fixed clock never moves here, so
// every change happens in the same second as the tokens it must end (and those it must not).

async function remove(app: FastifyInstance, clientId: string): Promise<void> {
  const r = await adminRequest(app, 'DELETE', `/admin/clients/${clientId}`)
  if (r.statusCode !== 204) throw new Error(`${r.statusCode} ${r.body}`)
}
const patch = async (app: FastifyInstance, clientId: string, payload: object) =>
  app.inject({ method: 'PATCH', url: `/admin/clients/${clientId}`, headers: bearer(await adminToken(app)), payload })

for (const backend of backends()) {
  t.test(backend.name, async t => {
    t.test('issue 11: a deleted admin client\'s token is refused at /admin and by introspection at once, and creates nothing', async t => {
      const { app } = await buildTestApp(t, backend)
      await setUpSurfaces(app)
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
      await setUpSurfaces(app)
      const tokens = await loginThroughApp(app)
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
      await setUpSurfaces(app)
      const old = await loginThroughApp(app)
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
      const fresh = await loginThroughApp(app, '')
      t.equal(fresh.scope, 'openid read')
      t.equal((await introspect(app, fresh.access_token)).active, true)
      t.equal((await userinfo(app, fresh.access_token)).statusCode, 200)
      const next = await refresh(app, fresh.refresh_token)
      t.equal(next.statusCode, 200, next.body)
      t.equal(next.json().scope, 'openid read')
    })

    t.test('issue 11: a token or family asking for more than its client now has is refused, however the client was narrowed', async t => {
      const { app, services } = await buildTestApp(t, backend)
      await setUpSurfaces(app)
      const wide = await loginThroughApp(app)
      // Narrowed behind the registry's back (no new generation): the scope check still holds.
      await services.db.prisma.client.update({ where: { clientId: 'app' }, data: { scopes: ['openid', 'read'] } })
      services.clients.cache.evict('app')
      t.equal((await userinfo(app, wide.access_token)).statusCode, 401)
      t.same(await introspect(app, wide.refresh_token), { active: false })
      t.equal((await refresh(app, wide.refresh_token)).json().error, 'invalid_grant')
      const narrow = await loginThroughApp(app, 'openid read')
      t.equal((await userinfo(app, narrow.access_token)).statusCode, 200)
      t.equal((await refresh(app, narrow.refresh_token)).statusCode, 200)
    })

    t.test('issue 11: PATCH /admin/clients/:id — a rotated secret or narrowed scopes end what was issued before; widening ends nothing', async t => {
      const { app } = await buildTestApp(t, backend)
      await setUpSurfaces(app)
      const user = await loginThroughApp(app)
      const widened = await patch(app, 'app', { scopes: ['openid', 'read', 'write', 'extra'] })
      t.equal(widened.statusCode, 200, widened.body)
      t.same(widened.json().scopes, ['openid', 'read', 'write', 'extra'])
      t.equal((await userinfo(app, user.access_token)).statusCode, 200, 'widening keeps tokens')

      const narrowed = await patch(app, 'app', { scopes: ['openid', 'read'] })
      t.equal(narrowed.statusCode, 200, narrowed.body)
      t.equal((await userinfo(app, user.access_token)).statusCode, 401, 'narrowing ends the old access token')
      t.equal((await refresh(app, user.refresh_token)).json().error, 'invalid_grant', 'and its refresh family')

      const ops = await clientToken(app, 'ops', OPS_SECRET)
      const rotated = await patch(app, 'ops', { rotate_secret: true })
      t.equal(rotated.statusCode, 200, rotated.body)
      const secret = rotated.json().client_secret as string
      t.ok(secret.length >= 43, 'a generated secret, shown once')
      t.equal((await listClients(app, ops)).statusCode, 401, 'a token of the old secret is refused')
      t.equal((await postToken(app, { grant_type: 'client_credentials' }, basic('ops', OPS_SECRET))).statusCode, 401, 'the old secret is refused')
      t.equal((await listClients(app, await clientToken(app, 'ops', secret))).statusCode, 200, 'the new secret works, in the same second')
      t.notOk('client_secret' in (await adminRequest(app, 'GET', '/admin/clients/ops')).json())
    })

    t.test('issue 11: PATCH /admin/clients/:id refuses what it cannot do', async t => {
      const { app } = await buildTestApp(t, backend)
      await setUpSurfaces(app)
      for (const c of [
        { name: 'nothing to change', id: 'ops', body: {}, status: 400 },
        { name: 'a short secret', id: 'ops', body: { client_secret: 'short' }, status: 400 },
        { name: 'both a secret and rotate_secret', id: 'ops', body: { client_secret: PASSWORD.repeat(2), rotate_secret: true }, status: 400 },
        { name: 'a secret for a public client', id: 'app', body: { rotate_secret: true }, status: 400 },
        { name: 'client_credentials for a public client', id: 'app', body: { grant_types: ['client_credentials'] }, status: 400 },
        { name: 'an unknown field', id: 'ops', body: { token_endpoint_auth_method: 'none' }, status: 400 },
        { name: 'an unknown client', id: 'nobody', body: { scopes: [] }, status: 404 },
      ]) {
        const r = await patch(app, c.id, c.body)
        t.equal(r.statusCode, c.status, c.name)
        t.equal(r.json().error, c.status === 404 ? 'not_found' : 'invalid_request', c.name)
      }
    })
  })
}
