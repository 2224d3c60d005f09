import t from 'tap'
import { describeFailover, refreshLoadAcrossFailover, startRefreshTarget, waitFor } from '../helpers/failover-load.js'
import { redisTopologySkip, startRedisCluster } from '../helpers/redis-servers.js'

// Issue 14, deliverable 1 (with replicas): a real Redis Cluster of 3 masters and 3 replicas
// started by this test; one master is killed under a bounded refresh load.

const skip = await redisTopologySkip()
const STEADY_MS = 2000

t.test('issue 14: a Redis Cluster master killed under a refresh load gives 503s, never 500, and Sigil recovers by itself', { skip, timeout: 90_000 }, async t => {
  const cluster = await startRedisCluster(t, { masters: 3, replicas: 1, nodeTimeoutMs: 1000 })
  // Enough chains that some families live on the master that is killed.
  const { sigil, users } = await startRefreshTarget(t, cluster.url, 6)

  const mastersBefore = await cluster.masters()
  t.equal(mastersBefore.length, 3)
  // The victim: the master holding the most refresh families once the load runs (each chain is one family).
  let victim = cluster.nodes[0]!
  const killBusiestMaster = async () => {
    const families = await Promise.all(mastersBefore.map(async port => (await cluster.cli(port, 'keys', 'sigil:fam:*')).split('\n').filter(Boolean).length))
    const busiest = mastersBefore[families.indexOf(Math.max(...families))]
    victim = cluster.nodes.find(n => n.port === busiest)!
    t.comment(`families per master at the kill: ${mastersBefore.map((p, i) => `${p}=${families[i]}`).join(', ')}; killing ${victim.port}`)
    await victim.kill()
    await waitFor('a replica takes over', async () => {
      const now = await cluster.masters()
      return now.length === 3 && !now.includes(victim.port)
    })
  }
  const r = await refreshLoadAcrossFailover({ base: sigil.url, users, fault: killBusiestMaster, steadyMs: STEADY_MS, maxMs: 30_000, maxRequests: 8000 })
  const mastersAfter = await cluster.masters()
  t.comment(`cluster failover: ${describeFailover(r)}; masters ${mastersBefore.join(',')} -> ${mastersAfter.join(',')}`)
  t.same(r.unexpected, [], 'every answer was 200, 400 invalid_grant or 503; none was a 500 or missing')
  t.ok((r.before['200'] ?? 0) > 0, 'the load was served before the kill')
  t.equal(mastersAfter.length, 3, 'a replica took over the killed master\'s slots')
  t.notOk(mastersAfter.includes(victim.port))
  t.ok(r.steadyAfterMs > STEADY_MS, `refreshes succeed again without a restart, for ${STEADY_MS} ms and more`)
  t.ok(r.outageMs < 20_000, `recovered ${(r.outageMs / 1000).toFixed(1)} s after the kill`)
  t.notMatch(sigil.output(), /CROSSSLOT|ClusterAllFailedError/, 'no cross-slot error in the log')
  t.equal(sigil.child.exitCode, null, 'the process stayed up')
})
