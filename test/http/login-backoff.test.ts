import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, createUser, login, PASSWORD, registerLoginClients } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { buildTestApps } from '../helpers/instances.js'

const TOO_MANY = { error: 'too_many_requests', error_description: 'too many attempts, retry later' }

/** Attempts a login `count` times, instance by instance in turn; returns the statuses. */
async function attempts(apps: FastifyInstance[], count: number, fields: Record<string, string>): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < count; i++) statuses.push((await login(apps[i % apps.length]!, 'spa', fields)).statusCode)
  return statuses
}
const repeat = <T>(value: T, n: number) => Array<T>(n).fill(value)

for (const backend of backends()) {
  t.test(backend.name, async t => {
    t.test('one instance (RATE_LIMIT_USER_FAILURES=10 by default)', async t => {
      const { app, clock } = await buildTestApp(t, backend)
      await registerLoginClients(app)
      await createUser(app, { username: 'alice', password: PASSWORD })
      await createUser(app, { username: 'bob', password: PASSWORD })

      t.test('50 wrong passwords: 10 are answered, then 429 with Retry-After, the right password too', async t => {
        t.same(await attempts([app], 50, { username: 'alice', password: 'wrong password' }), [...repeat(400, 10), ...repeat(429, 40)])
        const r = await login(app, 'spa', { username: 'ALICE', password: PASSWORD })
        t.equal(r.statusCode, 429, 'the username is compared normalized')
        t.same(r.json(), TOO_MANY)
        t.equal(r.headers['retry-after'], '1', 'the first back-off is 1 s')
        t.equal(r.headers['cache-control'], 'no-store')
        clock.advance(1000)
        t.equal((await login(app, 'spa', { username: 'alice', password: PASSWORD })).statusCode, 200, 'served once the back-off has passed')
        t.equal((await login(app, 'spa', { username: 'alice', password: 'wrong' })).statusCode, 400, 'success forgave the failures')
      })

      t.test('the back-off doubles, to at most 15 minutes', async t => {
        await attempts([app], 10, { username: 'bob', password: 'wrong password' })
        const waits: number[] = []
        for (let i = 0; i < 14; i++) {
          const r = await login(app, 'spa', { username: 'bob', password: 'wrong password' })
          t.equal(r.statusCode, 429)
          waits.push(Number(r.headers['retry-after']))
          clock.advance(Number(r.headers['retry-after']) * 1000)
          t.equal((await login(app, 'spa', { username: 'bob', password: 'wrong password' })).statusCode, 400)
        }
        t.same(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900])
      })

      t.test('an unknown username backs off exactly like a known one', async t => {
        t.same(await attempts([app], 12, { username: 'nobody', password: 'wrong password' }), [...repeat(400, 10), 429, 429])
      })
    })

    t.test('two instances sharing the database and store (RATE_LIMIT_IP_FAILURES=15)', async t => {
      const apps = (await buildTestApps(t, backend, 2, { config: { rateLimitIpFailures: 15 } })).map(i => i.app)
      await registerLoginClients(apps[0]!)
      for (const username of ['alice', 'bob', 'carol']) await createUser(apps[1]!, { username, password: PASSWORD })

      t.test('50 wrong passwords alternating between instances: back-off after 10', async t => {
        t.same(await attempts(apps, 50, { username: 'alice', password: 'wrong password' }), [...repeat(400, 10), ...repeat(429, 40)])
        const r = await login(apps[1]!, 'spa', { username: 'alice', password: PASSWORD })
        t.equal(r.statusCode, 429)
        t.ok(Number(r.headers['retry-after']) >= 1)
      })

      t.test('another username from the same IP is served until the IP failure limit', async t => {
        t.equal((await login(apps[0]!, 'spa', { username: 'bob', password: PASSWORD })).statusCode, 200)
        t.same(await attempts(apps, 5, { username: 'bob', password: 'wrong password' }), repeat(400, 5), 'failures 11-15 from this IP')
        for (const [i, username] of [[0, 'bob'], [1, 'carol']] as const) {
          const r = await login(apps[i]!, 'spa', { username, password: PASSWORD })
          t.equal(r.statusCode, 429, `${username}: the IP has had 15 failures this minute`)
          t.same(r.json(), TOO_MANY)
          t.ok(Number(r.headers['retry-after']) >= 1 && Number(r.headers['retry-after']) <= 60)
        }
        const elsewhere = await login(apps[1]!, 'spa', { username: 'carol', password: PASSWORD }, { remoteAddress: '198.51.100.7' })
        t.equal(elsewhere.statusCode, 200, 'another IP is served')
      })
    })
  })
}
