import t from 'tap'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/log.js'
import { createServices } from '../../src/services.js'
import { ADMIN, adminRequest, basic, clientToken, postToken } from '../helpers/app.js'
import { backends, openTestDatabase, openTestStore } from '../helpers/backends.js'
import { fixedClock, sleep } from '../helpers/clock.js'
import { testConfig } from '../helpers/config.js'
import { buildTestApps } from '../helpers/instances.js'
import { introspect, listClients, OPS_SECRET, setUpSurfaces } from '../helpers/token-surfaces.js'

// Issue 11, deliverable 1, across instances and restarts: what ends a client's tokens on one
// instance ends them on every instance sharing the database and the store.

/** Far below the client cache's 60 s: only the store's notification can make it in time. */
const CHANNEL_DEADLINE_MS = 1000
const NEW_ADMIN_SECRET = 'a-brand-new-admin-secret-0123456789-0123456789'

for (const backend of backends()) {
  t.test(backend.name, async t => {
    t.test('issue 11: a second instance refuses a deleted client\'s token as soon as the change reaches it', async t => {
      const [a, b] = await buildTestApps(t, backend, 2)
      await setUpSurfaces(a!.app)
      const ops = await clientToken(a!.app, 'ops', OPS_SECRET)
      t.equal((await listClients(b!.app, ops)).statusCode, 200, 'the other instance has the client cached')

      t.equal((await adminRequest(a!.app, 'DELETE', '/admin/clients/ops')).statusCode, 204)
      t.equal((await listClients(a!.app, ops)).statusCode, 401, 'the deleting instance at once')
      // The other instance hears of it through the store's clients channel: one message, no reload period.
      const started = Date.now()
      let status = 200
      while (status === 200 && Date.now() - started < CHANNEL_DEADLINE_MS) {
        status = (await listClients(b!.app, ops)).statusCode
        if (status === 200) await sleep(5)
      }
      t.equal(status, 401, `the other instance refused it after ${Date.now() - started} ms`)
      t.same(await introspect(b!.app, ops), { active: false })
    })

    t.test('issue 11: a new SIGIL_ADMIN_CLIENT_SECRET, or a start that narrows the admin client, ends its tokens; an unchanged restart ends nothing', async t => {
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

      const rotated = await start({ clientId: ADMIN.clientId, clientSecret: NEW_ADMIN_SECRET })
      t.equal((await listClients(rotated.app, before)).statusCode, 401, 'a token issued under the old secret is refused')
      const after = await clientToken(rotated.app, ADMIN.clientId, NEW_ADMIN_SECRET)
      t.equal((await listClients(rotated.app, after)).statusCode, 200, 'the new secret\'s tokens work, in the same second')
    })
  })
}
