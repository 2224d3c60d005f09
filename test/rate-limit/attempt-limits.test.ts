import t from 'tap'
import { InvalidClient, InvalidRequest, TemporarilyUnavailable, TooManyRequests } from '../../src/errors.js'
import { createRedisStore } from '../../src/store/redis/redis-store.js'
import { admitLoginAttempt, forgetLoginAttempts, limitIpFailures } from '../../src/rate-limit/attempt-limits.js'
import { openTestStore } from '../helpers/backends.js'
import { fixedClock } from '../helpers/clock.js'
import { freePort } from '../helpers/server.js'

const config = { rateLimitIpFailures: 2, rateLimitUserFailures: 2 }
const fail = (err: Error) => async () => { throw err }

t.test('limitIpFailures counts only failed authentications and logins', async t => {
  const deps = { store: await openTestStore(t, 'memory'), clock: fixedClock(Date.UTC(2026, 0, 1, 0, 0, 15)), config }
  await t.rejects(limitIpFailures(deps, '192.0.2.1', fail(new InvalidRequest('bad'))), InvalidRequest)
  await t.rejects(limitIpFailures(deps, '192.0.2.1', fail(new InvalidRequest('bad'))), InvalidRequest, 'malformed requests do not count')
  await t.rejects(limitIpFailures(deps, '192.0.2.1', fail(new InvalidClient('x'))), InvalidClient)
  await t.rejects(limitIpFailures(deps, '192.0.2.1', fail(new InvalidClient('x'))), InvalidClient)
  const refused = await limitIpFailures(deps, '192.0.2.1', async () => 'ran').catch((e: unknown) => e)
  t.type(refused, TooManyRequests)
  t.equal((refused as TooManyRequests).retryAfterSec, 45, 'Retry-After: the rest of the minute')
  t.equal(await limitIpFailures({ ...deps, config: { ...config, rateLimitIpFailures: 0 } }, '192.0.2.1', async () => 'ran'), 'ran', '0 is off')
})

t.test('admitLoginAttempt: 0 is off; forgetLoginAttempts resets', async t => {
  const deps = { store: await openTestStore(t, 'memory'), clock: fixedClock(), config }
  await admitLoginAttempt(deps, 'alice')
  await admitLoginAttempt(deps, 'alice')
  await t.rejects(admitLoginAttempt(deps, 'alice'), TooManyRequests)
  await forgetLoginAttempts(deps, 'alice')
  await admitLoginAttempt(deps, 'alice')
  const off = { ...deps, config: { ...config, rateLimitUserFailures: 0 } }
  for (let i = 0; i < 5; i++) await admitLoginAttempt(off, 'bob')
})

t.test('an unreachable store fails closed: 503, never an unthrottled login', async t => {
  const store = createRedisStore({ url: `redis://127.0.0.1:${await freePort()}` })
  t.teardown(() => store.close())
  const deps = { store, clock: fixedClock(), config }
  await t.rejects(admitLoginAttempt(deps, 'alice'), TemporarilyUnavailable)
  let ran = false
  await t.rejects(limitIpFailures(deps, '192.0.2.1', async () => { ran = true }), TemporarilyUnavailable)
  t.equal(ran, false)
})
