import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './server.js'

const run = promisify(execFile)
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

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

/** True when Debian's redis-server and redis-cli are on PATH. */
export async function haveRedisServer(): Promise<boolean> {
  try {
    await run('redis-server', ['--version'])
    await run('redis-cli', ['--version'])
    return true
  } catch {
    return false
  }
}

/** Starts redis-server on a free loopback port (cluster bus on another free port) and waits for PONG. */
async function startNode(t: { teardown(fn: () => unknown): void }, dir: string, nodeTimeoutMs: number): Promise<RedisNode> {
  const [port, bus] = [await freePort(), await freePort()]
  const child = spawn('redis-server', [
    '--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes', '--cluster-port', String(bus),
    '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', String(nodeTimeoutMs),
    '--dir', dir, '--dbfilename', `dump-${port}.rdb`, '--save', '', '--appendonly', 'no', '--daemonize', 'no',
    '--logfile', join(dir, `redis-${port}.log`),
  ], { stdio: 'ignore' })
  const gone = new Promise<void>(resolve => child.on('exit', () => resolve()))
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await gone
  }
  t.teardown(kill)
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${child.exitCode}`)
    const pong = await run('redis-cli', ['-p', String(port), 'ping']).then(r => r.stdout.trim(), () => '')
    if (pong === 'PONG') return { port, child, kill }
    await sleep(50)
  }
  throw new Error(`redis-server on ${port} did not answer PING`)
}

/**
 * A real Redis Cluster on loopback for one test: `masters` masters, each with `replicas`
 * replicas, on free ports picked now, in a temp dir; `redis-cli --cluster create` joins them.
 * Resolves once every node reports `cluster_state:ok`; every process is killed by its own pid
 * at teardown and the dir removed.
 */
export async function startRedisCluster(
  t: { teardown(fn: () => unknown): void }, opts: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {},
): Promise<RedisClusterHandle> {
  const masters = opts.masters ?? 3
  const replicas = opts.replicas ?? 0
  const dir = await mkdtemp(join(tmpdir(), 'sigil-redis-cluster-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const nodes: RedisNode[] = []
  for (let i = 0; i < masters * (1 + replicas); i++) nodes.push(await startNode(t, dir, opts.nodeTimeoutMs ?? 2000))
  const addresses = nodes.map(n => `127.0.0.1:${n.port}`)
  await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 })
  const cli = async (port: number, ...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args])).stdout
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
