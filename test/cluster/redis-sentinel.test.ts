import t from 'tap'
import { describeFailover, refreshLoadAcrossFailover, startRefreshTarget, waitFor } from '../helpers/failover-load.js'
import { redisTopologySkip, startRedisSentinel } from '../helpers/redis-servers.js'

// Issue 14, deliverable 2: Sigil on Redis Sentinel (one master, one replica, three sentinels)
// through the documented redis-sentinel:// host list; the master is killed under a bounded
// refresh load. Sigil answers 503 (never 500) during the failover and recovers by itself.

const skip = await redisTopologySkip()
const STEADY_MS = 2000

t.test('issue 14: a Sentinel failover under a refresh load gives 503s, never 500, and Sigil recovers by itself', { skip, timeout: 90_000 }, async t => {
  const sentinel = await startRedisSentinel(t, { downAfterMs: 1000 })
  const { sigil, users } = await startRefreshTarget(t, sentinel.url, 4)

  const oldMaster = sentinel.master.port
  const r = await refreshLoadAcrossFailover({ base: sigil.url, users, fault: async () => {
    await sentinel.master.kill()
    await waitFor('the sentinels promote the replica', async () => (await sentinel.masterPort()) !== oldMaster)
  }, steadyMs: STEADY_MS, maxMs: 40_000, maxRequests: 6000 })
  const promoted = await sentinel.masterPort()
  t.comment(`sentinel failover: ${describeFailover(r)}; master ${oldMaster} -> ${promoted}`)
  t.same(r.unexpected, [], 'every answer was 200, 400 invalid_grant or 503; none was a 500 or missing')
  t.ok((r.before['200'] ?? 0) > 0, 'the load was served before the kill')
  t.equal(promoted, sentinel.replica.port, 'the sentinels promoted the replica')
  t.ok(r.oldTokensTried > 0, 'chains were checked for a second live branch')
  if (r.invalidGrants.firstTry === 0) t.equal(r.oldTokensAccepted, 0, 'no family has two live branches: every rotated-out token is refused')
  t.ok(r.steadyAfterMs > STEADY_MS, `refreshes succeed again without a restart, for ${STEADY_MS} ms and more`)
  t.ok(r.outageMs < 20_000, `recovered ${(r.outageMs / 1000).toFixed(1)} s after the kill`)
  t.equal(sigil.child.exitCode, null, 'the process stayed up')
})
