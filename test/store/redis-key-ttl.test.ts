import t from 'tap'
import { adminRequest, postToken } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { buildTestApps } from '../helpers/instances.js'
import { keysWithoutTtl } from '../helpers/redis-keys.js'

const redisBackend = backends().find(b => b.store === 'redis')

t.test('after 1,000 logins, refreshes, failures and revocations every Redis key has a TTL', { skip: redisBackend ? false : 'needs REDIS_URL' }, async t => {
  const [{ app }] = await buildTestApps(t, redisBackend!, 1) as [Awaited<ReturnType<typeof buildTestApps>>[0]]
  await adminRequest(app, 'POST', '/admin/clients', { client_id: 'app', token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['read'] })
  const users = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    adminRequest(app, 'POST', '/admin/users', { username: `ttl-${i}`, password: 'a password long enough' }).then(r => r.json().id as string)))
  const form = (fields: Record<string, string>) => postToken(app, { client_id: 'app', ...fields })
  let logins = 0
  await Promise.all(Array.from({ length: 8 }, async (_, worker) => {
    for (let i = worker; i < 1000; i += 8) {
      const r = await form({ grant_type: 'password', username: `ttl-${i % 20}`, password: 'a password long enough' })
      if (r.statusCode !== 200) throw new Error(r.body)
      logins++
      const { refresh_token: rt, access_token: at } = r.json()
      if (i % 5 === 0) await form({ grant_type: 'refresh_token', refresh_token: rt })
      if (i % 7 === 0) await app.inject({ method: 'POST', url: '/oauth2/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `client_id=app&token=${i % 2 ? rt : at}` })
      if (i % 50 === 0) await form({ grant_type: 'password', username: `nobody-${i}`, password: 'wrong password here' })
    }
  }))
  await adminRequest(app, 'POST', `/admin/users/${users[0]}/revoke-tokens`)
  t.equal(logins, 1000)

  const { seen, immortal } = await keysWithoutTtl('sigil-test:*')
  t.ok(seen >= 1000, `${seen} test keys scanned`)
  // The one exception, by design: each namespace's generation marker, which must live exactly as
  // long as the rest of the data (issue 11: its absence is how a loss of that data is noticed).
  t.same(immortal.filter(key => !key.endsWith(':generation')), [], 'no key without a TTL: everything expires by itself')
})
