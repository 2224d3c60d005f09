import t from 'tap'
import { InvalidClient, InvalidGrant, InvalidRequest, TemporarilyUnavailable, TooManyRequests } from '../../src/errors.js'
import { createRedisStore } from '../../src/store/redis/redis-store.js'
import { admitLoginAttempt, forgetLoginAttempts, limitIpFailures, type IpSlotGate } from '../../src/rate-limit/attempt-limits.js'
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

t.test('issue 12: an attempt that checks its slot in its own store step (gateInAttempt)', async t => {
  const nowMs = Date.UTC(2026, 0, 1, 0, 0, 15)
  const setUp = async () => ({ store: await openTestStore(t, 'memory'), clock: fixedClock(nowMs), config })
  const gated = <T>(deps: Awaited<ReturnType<typeof setUp>>, attempt: (gate?: IpSlotGate) => Promise<T>) =>
    limitIpFailures(deps, '192.0.2.9', attempt, { gateInAttempt: true })
  const failuresNow = async (deps: Awaited<ReturnType<typeof setUp>>) => {
    const verdict = await deps.store.takeAttemptSlot('ip:192.0.2.9', nowMs, 60, 0)
    return verdict.allowed ? NaN : verdict.failures
  }

  t.test('a success that passed its step takes and leaves no slot', async t => {
    const deps = await setUp()
    t.equal(await gated(deps, async gate => { gate!.passed(false); return 'ok' }), 'ok')
    t.equal(await failuresNow(deps), 0)
    t.same(await deps.store.takeAttemptSlot('ip:192.0.2.9', nowMs, 60, 1), { allowed: true }, 'nothing in flight')
  })

  t.test('failures: counted by the step, after the step, or before it; once full, 429 without running the attempt again', async t => {
    const deps = await setUp()
    await t.rejects(gated(deps, async gate => { gate!.passed(true); throw new InvalidGrant('refused by the step') }), InvalidGrant)
    t.equal(await failuresNow(deps), 0, 'limitIpFailures adds nothing to what the step counted')
    await t.rejects(gated(deps, async gate => { gate!.passed(false); throw new InvalidGrant('after the step') }), InvalidGrant)
    t.equal(await failuresNow(deps), 1, 'a failure after the step is recorded')
    await t.rejects(gated(deps, async () => { throw new InvalidClient('before the step') }), InvalidClient)
    t.equal(await failuresNow(deps), 2, 'a failure before the step is settled as usual')
    await t.rejects(gated(deps, async () => { throw new InvalidClient('before the step') }), TooManyRequests,
      'before the step, full slots answer 429, as they would have first')
    let runs = 0
    const refused = await gated(deps, async gate => { runs++; return gate!.refused(2) }).catch((e: unknown) => e)
    t.type(refused, TooManyRequests)
    t.equal((refused as TooManyRequests).retryAfterSec, 45)
    t.equal(runs, 1, 'not run again')
  })

  t.test('slots full of attempts in flight: the attempt runs again the usual way, in a slot taken first', async t => {
    const deps = await setUp()
    const gates: Array<IpSlotGate | undefined> = []
    const result = await gated(deps, async gate => {
      gates.push(gate)
      if (gate) return gate.refused(0)
      t.same(await deps.store.takeAttemptSlot('ip:192.0.2.9', nowMs, 60, 2), { allowed: true })
      t.same(await deps.store.takeAttemptSlot('ip:192.0.2.9', nowMs, 60, 2), { allowed: false, failures: 0 }, 'its own slot is held')
      return 'ran'
    })
    t.equal(result, 'ran')
    t.equal(gates.length, 2)
    t.equal(gates[1], undefined, 'the second run has no gate')
  })

  t.test('an unreachable store fails closed on this path too', async t => {
    const store = createRedisStore({ url: `redis://127.0.0.1:${await freePort()}` })
    t.teardown(() => store.close())
    const deps = { store, clock: fixedClock(), config }
    await t.rejects(limitIpFailures(deps, '192.0.2.1', async () => { throw new InvalidGrant('x') }, { gateInAttempt: true }), TemporarilyUnavailable)
  })
})
