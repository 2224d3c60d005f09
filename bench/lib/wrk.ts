import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { cpuSeconds, cpuTicks } from './proc.js'

const SCRIPT = fileURLToPath(new URL('../wrk/request.lua', import.meta.url))

/** One HTTP request shape for wrk: a static request, or the refresh-token relay (`tokensFile`). */
export interface LoadRequest {
  method: 'GET' | 'POST'
  /** Absolute URL. */
  url: string
  headers?: Record<string, string>
  /** The body; in refresh mode, the body up to the token. */
  body?: string
  tokensFile?: string
  /** Bodies, one a line, sent in turn instead of `body`. */
  bodiesFile?: string
}

export interface LoadOptions {
  seconds: number
  connections: number
  /** CPUs wrk is pinned to (taskset -c). */
  cpus: string
  /** The server's pid: its CPU time (and its workers') is read before and after. */
  serverPid: number
  /** The server's CPUs: how busy other processes kept them is read before and after. */
  serverCpus: string
  delayMs?: number
}

export interface LoadResult {
  rps: number
  p50Ms: number
  p99Ms: number
  /** Requests per CPU-second the server (all its processes) spent. */
  perCpuSec: number
  /** Server CPU seconds over wall seconds: 1 is one core busy all the time. */
  cpuUse: number
  /** Share of the server's CPUs that other processes (wrk included, if it shares them) used meanwhile. */
  otherUse: number
  requests: number
  /** Responses with status ≥ 400, and connect/read/write/timeout errors. */
  errors: number
}

/**
 * Runs `wrk -t1` against `req` for `seconds` (bounded: wrk stops itself, and is killed 15 s
 * after that if it has not), keep-alive, latency percentiles from wrk's own histogram.
 */
export async function runLoad(req: LoadRequest, o: LoadOptions): Promise<LoadResult> {
  const env = {
    ...process.env, WRK_METHOD: req.method, WRK_BODY: req.body ?? '',
    WRK_HEADERS: Object.entries(req.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n'),
    WRK_TOKENS: req.tokensFile, WRK_BODIES: req.bodiesFile, WRK_DELAY_MS: String(o.delayMs ?? 0),
  }
  const argv = ['-c', o.cpus, 'wrk', '-t1', `-c${o.connections}`, `-d${Math.max(1, Math.round(o.seconds))}s`, '--timeout', '10s', '-s', SCRIPT, req.url]
  const cpuBefore = cpuSeconds(o.serverPid)
  const ticksBefore = cpuTicks(o.serverCpus)
  const started = performance.now()
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('taskset', argv, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { text += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { text += d })
    const kill = setTimeout(() => child.kill('SIGKILL'), (o.seconds + 15) * 1000)
    child.on('error', reject).on('close', code => {
      clearTimeout(kill)
      if (code === 0) resolve(text)
      else reject(new Error(`wrk exited ${code}: ${text.trim()}`))
    })
  })
  const wallSec = (performance.now() - started) / 1000
  const cpuSec = cpuSeconds(o.serverPid) - cpuBefore
  const ticksAfter = cpuTicks(o.serverCpus)
  const otherSec = ticksAfter.busy - ticksBefore.busy - cpuSec
  const line = /WRK_JSON (\{.*\})/.exec(out)?.[1]
  if (!line) throw new Error(`wrk printed no result: ${out.trim()}`)
  const r = JSON.parse(line) as { requests: number; duration_us: number; status_errors: number; socket_errors: number; p50_us: number; p99_us: number }
  return {
    rps: r.requests / (r.duration_us / 1e6),
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    perCpuSec: cpuSec > 0 ? r.requests / cpuSec : NaN,
    cpuUse: cpuSec / wallSec,
    otherUse: Math.max(0, otherSec / (ticksAfter.total - ticksBefore.total)),
    requests: r.requests,
    errors: r.status_errors + r.socket_errors,
  }
}
