import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { serverUrls } from './backends.js'
import { freePort } from './server.js'
import { sleep } from './clock.js'

const run = promisify(execFile)
/** redis-cli with `args`, authenticating with `password` (REDISCLI_AUTH: never on a command line). */
const redisCli = (args: string[], password?: string, timeout?: number) =>
  run('redis-cli', args, { env: { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) }, ...(timeout ? { timeout } : {}) })

/** One redis-server of a test cluster, started and stopped by its own pid. */
export interface RedisNode {
  port: number
  child: ChildProcess
  /** SIGKILL, as a crash would. Resolves once the process is gone. */
  kill(): Promise<void>
}

export interface RedisClusterHandle {
  /** `redis-cluster://127.0.0.1:p1,127.0.0.1:p2,…` over every node. */
  url: string
  nodes: RedisNode[]
  /** `redis-cli -p port …args`, stdout. */
  cli(port: number, ...args: string[]): Promise<string>
  /** Ports of the nodes that are masters now (asked of a live node). */
  masters(): Promise<number[]>
}

/**
 * Why a test of a Redis topology it starts itself cannot run here (tap's `skip`), or false:
 * it needs DATABASE_URL and REDIS_URL (PostgreSQL for the instances) and Debian's redis-server.
 */
export async function redisTopologySkip(): Promise<string | false> {
  if (!serverUrls()) return 'needs DATABASE_URL and REDIS_URL'
  try {
    await run('redis-server', ['--version'])
    await run('redis-cli', ['--version'])
    return false
  } catch {
    return 'needs redis-server and redis-cli (apt-get install redis-server)'
  }
}

/**
 * Starts `redis-server` with `args` on a free loopback port (`port` is given to `args`) and
 * waits for PONG; killed by its own pid at teardown. Its log goes to `dir`.
 */
export async function startRedisServer(
  t: { teardown(fn: () => unknown): void }, dir: string, args: (port: number) => string[] | Promise<string[]>, password?: string,
): Promise<RedisNode> {
  const port = await freePort()
  const child = spawn('redis-server', [
    ...await args(port), '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--daemonize', 'no', '--logfile', join(dir, `redis-${port}.log`),
  ], { stdio: 'ignore' })
  const gone = new Promise<void>(resolve => child.on('exit', () => resolve()))
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await gone
  }
  t.teardown(kill)
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${child.exitCode}`)
    const pong = await redisCli(['-p', String(port), 'ping'], password).then(r => r.stdout.trim(), () => '')
    if (pong === 'PONG') return { port, child, kill }
    await sleep(50)
  }
  throw new Error(`redis-server on ${port} did not answer PING`)
}

/** A cluster node: cluster mode, its bus on another free port, no persistence. */
const clusterNode = (t: { teardown(fn: () => unknown): void }, dir: string, nodeTimeoutMs: number, password?: string) => startRedisServer(t, dir, async port => [
  '--cluster-enabled', 'yes', '--cluster-port', String(await freePort()), '--cluster-config-file', join(dir, `nodes-${port}.conf`),
  // A replica may always stand for election, however long ago it last heard from its master (a
  // loaded CI machine can delay replication past the default validity window and stall failover).
  '--cluster-node-timeout', String(nodeTimeoutMs), '--cluster-replica-validity-factor', '0', '--dbfilename', `dump-${port}.rdb`, '--save', '', '--appendonly', 'no',
  ...(password ? ['--requirepass', password, '--masterauth', password] : []),
], password)

/**
 * A real Redis Cluster on loopback for one test: `masters` masters, each with `replicas`
 * replicas, on free ports picked now, in a temp dir; `redis-cli --cluster create` joins them.
 * Resolves once every node reports `cluster_state:ok`; every process is killed by its own pid
 * at teardown and the dir removed. With `password`, every node requires it (and replicas use it).
 */
export async function startRedisCluster(
  t: { teardown(fn: () => unknown): void }, opts: { masters?: number; replicas?: number; nodeTimeoutMs?: number; password?: string } = {},
): Promise<RedisClusterHandle> {
  const masters = opts.masters ?? 3
  const replicas = opts.replicas ?? 0
  const dir = await mkdtemp(join(tmpdir(), 'sigil-redis-cluster-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const nodes: RedisNode[] = []
  for (let i = 0; i < masters * (1 + replicas); i++) nodes.push(await clusterNode(t, dir, opts.nodeTimeoutMs ?? 2000, opts.password))
  const addresses = nodes.map(n => `127.0.0.1:${n.port}`)
  await redisCli(['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], opts.password, 30_000)
  const cli = async (port: number, ...args: string[]) => (await redisCli(['-p', String(port), ...args], opts.password)).stdout
  const deadline = Date.now() + 30_000
  for (;;) {
    const states = await Promise.all(nodes.map(n => cli(n.port, 'cluster', 'info').catch(() => '')))
    if (states.every(s => s.includes('cluster_state:ok'))) break
    if (Date.now() > deadline) throw new Error(`cluster not ok after 30 s: ${states.join(' | ')}`)
    await sleep(100)
  }
  const masterPorts = async () => {
    for (const n of nodes) {
      if (n.child.exitCode !== null || n.child.signalCode !== null) continue
      const lines = await cli(n.port, 'cluster', 'nodes').catch(() => '')
      if (!lines) continue
      return lines.split('\n').filter(l => / master /.test(` ${l.split(' ')[2]?.replace(/,/g, ' ')} `) && !l.includes('fail'))
        .map(l => Number(/:(\d+)@/.exec(l)?.[1])).filter(p => p > 0).sort((a, b) => a - b)
    }
    return []
  }
  return { url: `redis-cluster://${addresses.join(',')}`, nodes, cli, masters: masterPorts }
}

export interface RedisSentinelHandle {
  /** `redis-sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3/mymaster`. */
  url: string
  master: RedisNode
  replica: RedisNode
  sentinels: RedisNode[]
  /** The port the sentinels name as master now. */
  masterPort(): Promise<number>
}

/**
 * One master, one replica and three sentinels (quorum 2) on free loopback ports, monitoring
 * `mymaster` with `down-after-milliseconds` = `downAfterMs`. Resolves once the replica is in
 * sync and every sentinel knows the replica and the two other sentinels.
 */
export async function startRedisSentinel(t: { teardown(fn: () => unknown): void }, opts: { downAfterMs?: number } = {}): Promise<RedisSentinelHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-redis-sentinel-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const data = ['--save', '', '--appendonly', 'no']
  const master = await startRedisServer(t, dir, port => [...data, '--dbfilename', `dump-${port}.rdb`])
  const replica = await startRedisServer(t, dir, port => [...data, '--dbfilename', `dump-${port}.rdb`, '--replicaof', '127.0.0.1', String(master.port)])
  const sentinels: RedisNode[] = []
  for (let i = 0; i < 3; i++) {
    sentinels.push(await startRedisServer(t, dir, async port => {
      const conf = join(dir, `sentinel-${port}.conf`)
      await writeFile(conf, [
        `sentinel monitor mymaster 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds mymaster ${opts.downAfterMs ?? 1000}`,
        'sentinel failover-timeout mymaster 10000',
        'sentinel parallel-syncs mymaster 1', '',
      ].join('\n'))
      return [conf, '--sentinel']
    }))
  }
  const cli = async (port: number, ...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args])).stdout
  const deadline = Date.now() + 30_000
  for (;;) {
    const link = await cli(replica.port, 'info', 'replication').catch(() => '')
    const views = await Promise.all(sentinels.map(s => cli(s.port, 'sentinel', 'master', 'mymaster').catch(() => '')))
    const field = (view: string, name: string) => Number(new RegExp(`(?:^|\\n)${name}\\n(\\d+)`).exec(view)?.[1] ?? -1)
    if (link.includes('master_link_status:up') && views.every(v => field(v, 'num-other-sentinels') === 2 && field(v, 'num-slaves') === 1)) break
    if (Date.now() > deadline) throw new Error(`sentinels not ready after 30 s: ${views.join(' | ')}`)
    await sleep(100)
  }
  const masterPort = async () => {
    for (const s of sentinels) {
      const out = await cli(s.port, 'sentinel', 'get-master-addr-by-name', 'mymaster').catch(() => '')
      const port = Number(out.trim().split('\n')[1])
      if (port > 0) return port
    }
    return 0
  }
  return { url: `redis-sentinel://${sentinels.map(s => `127.0.0.1:${s.port}`).join(',')}/mymaster`, master, replica, sentinels, masterPort }
}
