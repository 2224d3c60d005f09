import { readFile } from 'node:fs/promises'
import http from 'node:http'
import { sleep } from './clock.js'

export interface HttpAnswer { status: number; headers: http.IncomingHttpHeaders; body: string; reusedSocket: boolean }

export interface RequestSpec {
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Default 30 s: generous for a loaded CI machine. */
  timeoutMs?: number
}

/**
 * One HTTP/1.1 request through `agent` (keep-alive agents reuse their connections; Node's
 * fetch hides which connection it used). Rejects on a connection error or timeout.
 */
export function httpRequest(agent: http.Agent, url: string, spec: RequestSpec = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, method: spec.method ?? 'GET', headers: spec.headers, timeout: spec.timeoutMs ?? 30_000 }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', chunk => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, reusedSocket: req.reusedSocket }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end(spec.body)
  })
}

export interface LoadReport {
  sent: number
  /** Answers by status. */
  statuses: Record<string, number>
  /** Each request that failed to connect or got an unexpected status, with why. */
  failures: string[]
}

/**
 * A steady load: `concurrency` loops, each sending `send(agent, n)` over one shared keep-alive
 * agent, `pauseMs` apart (default 0: back to back), until stopped. An answer `ok` refuses, or
 * no answer at all, is a failure. Bounded: each loop stops by itself after `maxMs` (default 120 s).
 */
export function startLoad(opts: {
  concurrency: number
  send(agent: http.Agent, n: number): Promise<HttpAnswer>
  ok(answer: HttpAnswer): boolean
  pauseMs?: number
  maxMs?: number
}): { stop(): Promise<LoadReport>; report(): LoadReport } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency })
  const report: LoadReport = { sent: 0, statuses: {}, failures: [] }
  const endMs = Date.now() + (opts.maxMs ?? 120_000)
  let running = true
  const loop = async () => {
    while (running && Date.now() < endMs) {
      const n = report.sent++
      try {
        const a = await opts.send(agent, n)
        report.statuses[a.status] = (report.statuses[a.status] ?? 0) + 1
        if (!opts.ok(a)) report.failures.push(`#${n}: ${a.status} ${a.body.slice(0, 200)}`)
      } catch (err) {
        report.failures.push(`#${n}: ${(err as Error).message}`)
      }
      if (opts.pauseMs) await sleep(opts.pauseMs)
    }
  }
  const loops = Array.from({ length: opts.concurrency }, () => loop())
  return {
    report: () => report,
    stop: async () => {
      running = false
      await Promise.all(loops)
      agent.destroy()
      return report
    },
  }
}

/** The pids of a process's children (Linux /proc), e.g. the workers of a cluster primary. */
export async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')
  return text.split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b)
}
