import { randomBytes } from 'node:crypto'
import t from 'tap'
import { describeFailover, refreshLoadAcrossFailover, startRefreshTarget, waitFor } from '../helpers/failover-load.js'
import { redisTopologySkip, startRedisCluster } from '../helpers/redis-servers.js'
import { sigilHttp } from '../helpers/sigil-http.js'
import { sleep } from '../helpers/clock.js'
import { basicAuthorization } from '../helpers/app.js'

// Issue 14, deliverable 1 (with replicas): a real Redis Cluster of 3 masters and 3 replicas
// started by this test, two instances on it; one master is killed under a bounded refresh load.

const skip = await redisTopologySkip()
const STEADY_MS = 2000

t.test('issue 14: a Redis Cluster master killed under a refresh load gives 503s, never 500, and Sigil recovers by itself', { skip, timeout: 90_000 }, async t => {
  const cluster = await startRedisCluster(t, { masters: 3, replicas: 1, nodeTimeoutMs: 1000 })
  // Enough chains that some families live on the master that is killed.
  const { sigil, sigils, users } = await startRefreshTarget(t, cluster.url, 6, 2)
  const peer = sigils[1]!

  const mastersBefore = await cluster.masters()
  t.equal(mastersBefore.length, 3)
  // The victim: the master serving the most notification subscriptions (each instance has one
  // subscriber connection, on a node ioredis picks), then the one holding the most families.
  let victim = cluster.nodes[0]!
  const killBusiestMaster = async () => {
    const count = async (port: number, ...args: string[]) => (await cluster.cli(port, ...args)).split('\n').filter(Boolean)
    const subscriptions = await Promise.all(mastersBefore.map(async port => Number((await count(port, 'pubsub', 'numsub', 'sigil:clients'))[1] ?? 0)))
    const families = await Promise.all(mastersBefore.map(async port => (await count(port, 'keys', 'sigil:fam:*')).length))
    const score = mastersBefore.map((_, i) => subscriptions[i]! * 1000 + families[i]!)
    const busiest = mastersBefore[score.indexOf(Math.max(...score))]
    victim = cluster.nodes.find(n => n.port === busiest)!
    t.comment(`at the kill, per master (subscriptions/families): ${mastersBefore.map((p, i) => `${p}=${subscriptions[i]}/${families[i]}`).join(', ')}; killing ${victim.port}`)
    await victim.kill()
    const tookOver = async () => {
      const now = await cluster.masters()
      return now.length === 3 && !now.includes(victim.port)
    }
    // Redis's own election normally ends in 2-5 s here; on a starved machine it can stall. What
    // this test is about is Sigil across a failover, so after 12 s the replica is told to take over.
    await waitFor('a replica takes over', tookOver, 12_000).catch(async () => {
      const replica = await replicaOf(victim.port)
      t.comment(`no automatic failover within 12 s: CLUSTER FAILOVER TAKEOVER on ${replica}`)
      await cluster.cli(replica, 'cluster', 'failover', 'takeover')
      await waitFor('the replica told to take over does', tookOver, 10_000)
    })
  }
  /** The port of the live replica of the master on `masterPort`, from a live node's view. */
  const replicaOf = async (masterPort: number) => {
    const live = cluster.nodes.find(n => n.port !== masterPort)!
    const lines = (await cluster.cli(live.port, 'cluster', 'nodes')).split('\n').filter(Boolean).map(l => l.split(' '))
    const masterId = lines.find(f => f[1]?.startsWith(`127.0.0.1:${masterPort}@`))?.[0]
    const replica = lines.find(f => f[3] === masterId && !f[2]!.includes('fail'))
    return Number(/:(\d+)@/.exec(replica?.[1] ?? '')?.[1])
  }
  const r = await refreshLoadAcrossFailover({ base: sigil.url, users, fault: killBusiestMaster, steadyMs: STEADY_MS, maxMs: 30_000, maxRequests: 8000 })
  const mastersAfter = await cluster.masters()
  t.comment(`cluster failover: ${describeFailover(r)}; masters ${mastersBefore.join(',')} -> ${mastersAfter.join(',')}`)
  t.same(r.unexpected, [], 'every answer was 200, 400 invalid_grant or 503; none was a 500 or missing')
  t.ok((r.before['200'] ?? 0) > 0, 'the load was served before the kill')
  t.equal(mastersAfter.length, 3, 'a replica took over the killed master\'s slots')
  t.notOk(mastersAfter.includes(victim.port))
  t.ok(r.oldTokensTried > 0, 'chains were checked for a second live branch')
  if (r.invalidGrants.firstTry === 0) t.equal(r.oldTokensAccepted, 0, 'no family has two live branches: every rotated-out token is refused')
  t.ok(r.steadyAfterMs > STEADY_MS, `refreshes succeed again without a restart, for ${STEADY_MS} ms and more`)
  t.ok(r.outageMs < 20_000, `recovered ${(r.outageMs / 1000).toFixed(1)} s after the kill`)
  t.notMatch(sigil.output() + peer.output(), /CROSSSLOT|ClusterAllFailedError/, 'no cross-slot error in the log')
  t.equal(sigil.child.exitCode, null, 'the process stayed up')

  // After the failover notifications still reach each instance (one of the two subscriber
  // connections was on the killed master: ioredis resubscribes elsewhere). Both directions.
  for (const [from, to, name] of [[sigil, peer, 'B'], [peer, sigil, 'A']] as const) {
    const spec = { client_id: `svc-${randomBytes(3).toString('hex')}`, client_secret: 'svc-client-secret-0123456789-0123456789-abc' }
    await sigilHttp(from.url).createClient({ ...spec, scopes: ['read'] })
    const grant = async () => (await fetch(`${to.url}/oauth2/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }),
      headers: { authorization: basicAuthorization(spec.client_id, spec.client_secret) },
    })).status
    t.equal(await grant(), 200, `${name} has the new client cached (for 60 s)`)
    await sigilHttp(from.url).deleteClient(spec.client_id)
    const since = Date.now()
    let status = 200
    while (status === 200 && Date.now() - since < 1000) {
      status = await grant()
      if (status === 200) await sleep(20)
    }
    t.equal(status, 401, `after the failover ${name} refused a client deleted on the other instance ${Date.now() - since} ms after the delete`)
  }
})
