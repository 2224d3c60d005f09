/**
 * `npm run bench` (builds first): Sigil side by side with node-oidc-provider and bare Fastify
 * routes, on loopback, each server pinned to one core and wrk to the other. See
 * docs/performance.md for what each scenario does and the figures of the last run.
 *
 * Environment knobs (defaults keep the whole run under 6 minutes):
 *   BENCH_SECONDS=3      length of one measured load       BENCH_ROUNDS=3   rounds (medians over them)
 *   BENCH_WARMUP_SEC=1   one unmeasured load per server and scenario before the rounds
 *   BENCH_SOAK_SEC=15    client_credentials soak for the RSS figures (120 for the 2-minute soak)
 *   BENCH_ONLY=a,b       only these parts: client_credentials_es256, client_credentials_rs256, refresh,
 *                        login, introspection, jwks_200, jwks_304, verify, workers, p99_at_80, soak
 *   BENCH_SERVER_CPU=1 BENCH_LOAD_CPU=0 BENCH_WORKERS_CPUS=0,1   taskset CPU lists
 *   BENCH_REDIS_DB=9     Redis database used (its sigil:* and bench:* keys are deleted before and after)
 *   BENCH_CPU_PROF=dir   run the main Sigil under node --cpu-prof (profile written to dir) and print
 *                        its self-time summary; pair it with BENCH_ONLY to profile one path
 * Needs wrk (Debian: apt-get install wrk), taskset (util-linux), DATABASE_URL and REDIS_URL.
 * A smoke run: BENCH_SECONDS=1 BENCH_ROUNDS=1 BENCH_WARMUP_SEC=0 BENCH_SOAK_SEC=2 npm run bench
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import pg from 'pg'
import { CC_CLIENTS, FORM, LOGIN_CLIENT, REFRESH_CLIENT, SCOPE, USERS, basic } from './lib/fixtures.js'
import { hasCommand, memoryMiB, stopProcess } from './lib/proc.js'
import { summarizeProfile } from './lib/profile.js'
import { setUpSigil, sigilRefreshTokens, startReference, startSigil, type Server } from './lib/sigil.js'
import { runLoad, type LoadRequest, type LoadResult } from './lib/wrk.js'

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback)
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`)
  return v
}
const SECONDS = num('BENCH_SECONDS', 3)
const ROUNDS = Math.max(1, num('BENCH_ROUNDS', 3))
const WARMUP_SEC = num('BENCH_WARMUP_SEC', 1)
const SOAK_SEC = num('BENCH_SOAK_SEC', 15)
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map(s => s.trim())) : undefined
const SERVER_CPU = process.env.BENCH_SERVER_CPU ?? '1'
const LOAD_CPU = process.env.BENCH_LOAD_CPU ?? '0'
const WORKERS_CPUS = process.env.BENCH_WORKERS_CPUS ?? '0,1'
const CONNECTIONS = 50
const PROF_DIR = process.env.BENCH_CPU_PROF
const wanted = (part: string) => !ONLY || ONLY.has(part)

type ServerName = 'sigil' | 'oidc-provider' | 'bare'
interface Target { request: () => Promise<LoadRequest>; expect: number; expectBody?: string }
interface Scenario { name: string; label: string; connections: number; targets: Partial<Record<ServerName, Target>> }
interface Summary { rps: number; p50Ms: number; p99Ms: number; perCpuSec: number; cpuUse: number; otherUse: number; errors: number; requests: number }

function preflight(): { databaseUrl: string; redisUrl: string } {
  const missing = [
    !hasCommand('wrk') && 'wrk (Debian/Ubuntu: apt-get install -y wrk)',
    !hasCommand('taskset') && 'taskset (util-linux)',
    !process.env.DATABASE_URL && 'DATABASE_URL (a PostgreSQL server, e.g. postgresql://postgres@127.0.0.1:5432/test)',
    !process.env.REDIS_URL && 'REDIS_URL (a Redis server, e.g. redis://127.0.0.1:6379)',
  ].filter(Boolean)
  if (missing.length > 0) {
    process.stderr.write(`bench: missing ${missing.join('; ')}\n`)
    process.exit(2)
  }
  if (cpus().length < 2) process.stderr.write('bench: fewer than 2 CPUs: server and load generator share one\n')
  const redis = new URL(process.env.REDIS_URL!)
  redis.pathname = `/${num('BENCH_REDIS_DB', 9)}`
  return { databaseUrl: process.env.DATABASE_URL!, redisUrl: redis.toString() }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
const summarize = (rs: LoadResult[]): Summary => ({
  rps: median(rs.map(r => r.rps)), p50Ms: median(rs.map(r => r.p50Ms)), p99Ms: median(rs.map(r => r.p99Ms)),
  perCpuSec: median(rs.map(r => r.perCpuSec)), cpuUse: median(rs.map(r => r.cpuUse)), otherUse: median(rs.map(r => r.otherUse)),
  errors: rs.reduce((n, r) => n + r.errors, 0), requests: rs.reduce((n, r) => n + r.requests, 0),
})
const round = (x: number, digits = 0) => Number(x.toFixed(digits))
const fmt = (x: number, digits = 0) => Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—'
const log = (line: string) => process.stderr.write(`${line}\n`)

/** Creates a scratch PostgreSQL database for this run; returns its URL and a drop function. */
async function scratchDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sigil_bench_${process.pid}_${Date.now().toString(36)}`
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: baseUrl })
    await c.connect()
    try { await c.query(sql) } finally { await c.end() }
  }
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(baseUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

async function clearRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  try {
    for (const pattern of ['sigil:*', 'bench:*']) {
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
        if (keys.length > 0) await redis.del(...keys)
        cursor = next
      } while (cursor !== '0')
    }
  } finally {
    redis.disconnect()
  }
}

/** One request of a target, checked before any load: a load of errors measures nothing. */
async function check(scenario: string, server: string, t: Target): Promise<void> {
  const req = await t.request()
  if (req.tokensFile) return
  const r = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body })
  const text = await r.text()
  if (r.status !== t.expect || (t.expectBody && !text.includes(t.expectBody))) {
    throw new Error(`${scenario} on ${server}: expected ${t.expect}${t.expectBody ? ` with ${t.expectBody}` : ''}, got ${r.status} ${text.slice(0, 300)}`)
  }
}

/** bench/verify.ts (in-process: sigil/verify against jose.jwtVerify), pinned like a server. */
function runVerify(alg: string): Promise<Record<string, number | string | boolean>> {
  const script = fileURLToPath(new URL('./verify.ts', import.meta.url))
  const rounds = String(Math.max(5, Math.round(SECONDS * 4)) | 1)
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', SERVER_CPU, process.execPath, '--import', import.meta.resolve('tsx'), script, '--alg', alg, '--rounds', rounds, '--round-ms', '200'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    const kill = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('error', reject).on('close', code => {
      clearTimeout(kill)
      const line = out.trim().split('\n').pop() ?? ''
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as Record<string, number | string | boolean>)
      else reject(new Error(`verify ${alg} exited ${code}: ${out}`))
    })
  })
}

const servers: Server[] = []
const { databaseUrl: baseDatabaseUrl, redisUrl } = preflight()
const scratch = mkdtempSync(join(tmpdir(), 'sigil-bench-run-'))
const started = Date.now()
const loadAtStart = loadavg()[0]!
const jsonLines: string[] = []
const goals: Array<{ name: string; value: number; goal: string; met: boolean; perCpu?: number }> = []
const goal = (name: string, value: number, target: number, lowerIsBetter = false, perCpu?: number) => {
  if (Number.isFinite(value)) goals.push({ name, value, goal: `${lowerIsBetter ? '<' : '≥'} ${target}`, met: lowerIsBetter ? value < target : value >= target, perCpu })
}

const db = await scratchDatabase(baseDatabaseUrl)
let exitCode = 0
try {
  await clearRedis(redisUrl)
  log(`bench: starting servers (Sigil on PostgreSQL + Redis db ${new URL(redisUrl).pathname.slice(1)}; servers on CPU ${SERVER_CPU}, wrk on CPU ${LOAD_CPU})`)
  const sigil = await startSigil({
    cpus: SERVER_CPU, workers: 1, databaseUrl: db.url, redisUrl, nodeArgs: PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`] : [],
  })
  servers.push(sigil)
  const oidc = await startReference('oidc-provider', { cpus: SERVER_CPU, redisUrl, readyPath: '/jwks', logDir: scratch })
  servers.push(oidc)
  const bare = await startReference('bare', { cpus: SERVER_CPU, redisUrl, readyPath: '/', logDir: scratch })
  servers.push(bare)
  await setUpSigil(sigil.url)

  const fixed = (req: LoadRequest, expect = 200, expectBody?: string): Target => ({ request: async () => req, expect, expectBody })
  const post = (url: string, body: string, headers: Record<string, string> = {}): LoadRequest => ({ method: 'POST', url, headers: { ...FORM, ...headers }, body })
  const get = (url: string, headers: Record<string, string> = {}): LoadRequest => ({ method: 'GET', url, headers })
  const CC_BODY = `grant_type=client_credentials&scope=${SCOPE}`
  const cc = (alg: keyof typeof CC_CLIENTS) => {
    const auth = { authorization: basic(CC_CLIENTS[alg]) }
    return {
      sigil: fixed(post(`${sigil.url}/oauth2/token`, CC_BODY, auth)),
      'oidc-provider': fixed(post(`${oidc.url}/token`, CC_BODY, auth)),
      bare: fixed(post(`${bare.url}/oauth2/token`, CC_BODY, auth)),
    }
  }
  const accessToken = async (url: string) => {
    const r = await fetch(url, { method: 'POST', headers: { ...FORM, authorization: basic(CC_CLIENTS.ES256) }, body: CC_BODY })
    return ((await r.json()) as { access_token: string }).access_token
  }
  // Refresh: each load relays tokens (bench/wrk/request.lua); more tokens than connections.
  const relay = (url: string, tokens: string[]): LoadRequest => {
    const tokensFile = join(scratch, 'refresh-tokens.txt')
    writeFileSync(tokensFile, tokens.join('\n') + '\n')
    return { ...post(url, `grant_type=refresh_token&client_id=${REFRESH_CLIENT}&refresh_token=`), tokensFile }
  }
  const relayTokens = CONNECTIONS + 14
  const bodiesFile = join(scratch, 'login-bodies.txt')
  writeFileSync(bodiesFile, USERS.map(u => new URLSearchParams({ grant_type: 'password', client_id: LOGIN_CLIENT, ...u, scope: SCOPE })).join('\n') + '\n')
  // wrk sends the bodies in turn; `body` (the first user's) is what the check before the loads sends.
  const login = (url: string): LoadRequest => ({ ...post(url, new URLSearchParams({ grant_type: 'password', client_id: LOGIN_CLIENT, ...USERS[0]!, scope: SCOPE }).toString()), bodiesFile })
  const introspect = (url: string, token: string) => post(url, `token=${token}`, { authorization: basic(CC_CLIENTS.ES256) })
  const sigilEtag = (await fetch(`${sigil.url}/.well-known/jwks.json`)).headers.get('etag') ?? ''

  const scenarios: Scenario[] = [
    { name: 'client_credentials_es256', label: 'client_credentials ES256', connections: CONNECTIONS, targets: cc('ES256') },
    { name: 'client_credentials_rs256', label: 'client_credentials RS256', connections: CONNECTIONS, targets: cc('RS256') },
    {
      name: 'refresh', label: 'refresh on Redis', connections: CONNECTIONS, targets: {
        sigil: { expect: 200, request: async () => relay(`${sigil.url}/oauth2/token`, await sigilRefreshTokens(sigil.url, relayTokens)) },
        bare: { expect: 200, request: async () => relay(`${bare.url}/oauth2/token`, await (await fetch(`${bare.url}/setup/families?n=${relayTokens}`, { method: 'POST' })).json() as string[]) },
      },
    },
    {
      name: 'login', label: 'password login (16 conns)', connections: 16, targets: {
        sigil: fixed(login(`${sigil.url}/oauth2/token`)),
        bare: fixed(login(`${bare.url}/oauth2/token`)),
      },
    },
    {
      name: 'introspection', label: 'introspection', connections: CONNECTIONS, targets: {
        sigil: fixed(introspect(`${sigil.url}/oauth2/introspect`, await accessToken(`${sigil.url}/oauth2/token`)), 200, '"active":true'),
        bare: fixed(introspect(`${bare.url}/oauth2/introspect`, await accessToken(`${bare.url}/oauth2/token`)), 200, '"active":true'),
      },
    },
    {
      name: 'jwks_200', label: 'JWKS 200', connections: CONNECTIONS, targets: {
        sigil: fixed(get(`${sigil.url}/.well-known/jwks.json`)),
        'oidc-provider': fixed(get(`${oidc.url}/jwks`)),
        bare: fixed(get(`${bare.url}/`)),
      },
    },
    {
      name: 'jwks_304', label: 'JWKS 304', connections: CONNECTIONS, targets: {
        sigil: fixed(get(`${sigil.url}/.well-known/jwks.json`, { 'if-none-match': sigilEtag }), 304),
        bare: fixed(get(`${bare.url}/`)),
      },
    },
  ].filter(s => wanted(s.name))

  for (const s of scenarios) for (const [name, t] of Object.entries(s.targets)) await check(s.label, name, t)
  const serverOf = { sigil, 'oidc-provider': oidc, bare }
  let sigilRequests = 0
  const load = async (s: Scenario, name: ServerName, seconds: number) => {
    const res = await runLoad(await s.targets[name]!.request(), { seconds, connections: s.connections, cpus: LOAD_CPU, serverPid: serverOf[name].child.pid!, serverCpus: SERVER_CPU })
    if (name === 'sigil') sigilRequests += res.requests
    return res
  }

  if (WARMUP_SEC > 0) {
    log(`bench: warm-up, ${WARMUP_SEC} s per server and scenario`)
    for (const s of scenarios) for (const name of Object.keys(s.targets) as ServerName[]) await load(s, name, WARMUP_SEC)
  }
  const results = new Map<string, Map<ServerName, LoadResult[]>>(scenarios.map(s => [s.name, new Map()]))
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of scenarios) {
      const names = Object.keys(s.targets) as ServerName[]
      // Alternate the order too, so no server always runs first (or right after another).
      for (const name of r % 2 ? names.reverse() : names) {
        const res = await load(s, name, SECONDS)
        const list = results.get(s.name)!.get(name) ?? []
        results.get(s.name)!.set(name, [...list, res])
        log(`round ${r + 1}/${ROUNDS}  ${s.label.padEnd(26)} ${name.padEnd(14)} ${fmt(res.rps).padStart(7)} req/s  p99 ${fmt(res.p99Ms, 1)} ms  ${fmt(res.perCpuSec)} req/CPU-s${res.errors ? `  ${res.errors} ERRORS` : ''}`)
      }
    }
  }

  // The table, the ratios, one JSON line per scenario.
  const summaries = new Map(scenarios.map(s => [s.name, new Map([...results.get(s.name)!].map(([n, rs]) => [n, summarize(rs)]))]))
  const rows: string[][] = [['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'req/CPU-s', 'CPU use', 'others', 'errors']]
  for (const s of scenarios) {
    const sum = summaries.get(s.name)!
    for (const [name, x] of sum) rows.push([s.label, name, fmt(x.rps), fmt(x.p50Ms, 2), fmt(x.p99Ms, 2), fmt(x.perCpuSec), fmt(x.cpuUse, 2), fmt(x.otherUse, 2), String(x.errors)])
    const sg = sum.get('sigil')
    const ratio = (other: ServerName, key: 'rps' | 'perCpuSec') => sg && sum.get(other) ? round(sg[key] / sum.get(other)![key], 3) : undefined
    jsonLines.push(JSON.stringify({
      bench: s.name, connections: s.connections, seconds: SECONDS, rounds: ROUNDS,
      servers: Object.fromEntries([...sum].map(([n, x]) => [n, {
        req_per_s: round(x.rps), p50_ms: round(x.p50Ms, 2), p99_ms: round(x.p99Ms, 2), req_per_cpu_s: round(x.perCpuSec), cpu_use: round(x.cpuUse, 2), other_use: round(x.otherUse, 2), errors: x.errors, requests: x.requests,
      }])),
      ratios: {
        rps_vs_oidc_provider: ratio('oidc-provider', 'rps'), per_cpu_s_vs_oidc_provider: ratio('oidc-provider', 'perCpuSec'),
        rps_vs_bare: ratio('bare', 'rps'), per_cpu_s_vs_bare: ratio('bare', 'perCpuSec'),
      },
    }))
  }
  const S = (scenario: string, server: ServerName) => summaries.get(scenario)?.get(server)
  const div = (a: number | undefined, b: number | undefined) => a !== undefined && b !== undefined ? a / b : NaN
  // Each ratio the issue names in req/s, with the same ratio per CPU-second alongside: on a shared
  // machine (see the others column) the second is the steadier one.
  const pair = (scenario: string, other: ServerName) => ({
    rps: div(S(scenario, 'sigil')?.rps, S(scenario, other)?.rps), perCpu: div(S(scenario, 'sigil')?.perCpuSec, S(scenario, other)?.perCpuSec),
  })
  const vsOidc = pair('client_credentials_es256', 'oidc-provider')
  goal('client_credentials ES256 req/s: Sigil / node-oidc-provider', vsOidc.rps, 2.2, false, vsOidc.perCpu)
  goal('client_credentials ES256 req per CPU-s: Sigil / bare route', pair('client_credentials_es256', 'bare').perCpu, 0.75)
  for (const [scenario, name, target] of [
    ['jwks_304', 'JWKS 304 req/s: Sigil / hello world', 0.8],
    ['refresh', 'refresh on Redis req/s: Sigil / bare route', 0.75],
    ['login', 'password login req/s: Sigil / bare argon2id route', 0.9],
  ] as const) {
    const r = pair(scenario, 'bare')
    goal(name, r.rps, target, false, r.perCpu)
  }
  if (sigilRequests > 0) {
    const text = readFileSync(sigil.logFile)
    let lines = 0
    for (let i = text.indexOf(10); i >= 0; i = text.indexOf(10, i + 1)) lines++
    log(`bench: Sigil's log (LOG_LEVEL default): ${fmt(lines / sigilRequests, 2)} lines, ${fmt(text.length / sigilRequests)} bytes per request`)
  }

  if (wanted('p99_at_80')) {
    // wrk has no rate control: a pause before each request paces every connection to ~80% of the peak.
    const ccEs256Sigil = await cc('ES256').sigil.request()
    const peak = S('client_credentials_es256', 'sigil')?.rps
      ?? (await runLoad(ccEs256Sigil, { seconds: SECONDS, connections: CONNECTIONS, cpus: LOAD_CPU, serverPid: sigil.child.pid!, serverCpus: SERVER_CPU })).rps
    // A short calibration load measures the latency at that pace; the measured load corrects for it.
    const target = 0.8 * peak
    const paceFor = (delayMs: number, seconds: number) =>
      runLoad(ccEs256Sigil, { seconds, connections: CONNECTIONS, cpus: LOAD_CPU, serverPid: sigil.child.pid!, serverCpus: SERVER_CPU, delayMs })
    const firstDelay = Math.round(CONNECTIONS * 1000 / target)
    const calibration = await paceFor(firstDelay, Math.max(1, SECONDS / 2))
    const latencyMs = CONNECTIONS * 1000 / calibration.rps - firstDelay
    const paced = await paceFor(Math.max(0, Math.round(CONNECTIONS * 1000 / target - latencyMs)), SECONDS)
    jsonLines.push(JSON.stringify({ bench: 'p99_at_80', scenario: 'client_credentials_es256', server: 'sigil', peak_req_per_s: round(peak), req_per_s: round(paced.rps), share_of_peak: round(paced.rps / peak, 2), p50_ms: round(paced.p50Ms, 2), p99_ms: round(paced.p99Ms, 2), errors: paced.errors }))
    log(`bench: client_credentials paced at ${fmt(paced.rps)} req/s (${fmt(100 * paced.rps / peak)}% of peak): p99 ${fmt(paced.p99Ms, 1)} ms`)
    goal(`client_credentials p99 ms at ${fmt(100 * paced.rps / peak)}% of peak (Sigil)`, paced.p99Ms, 50, true)
  }

  if (wanted('verify')) {
    for (const alg of ['ES256', 'RS256']) {
      const v = await runVerify(alg)
      jsonLines.push(JSON.stringify(v))
      log(`bench: verify ${alg}: sigil/verify ${fmt(Number(v.sigil_verify_per_s))}/s, jose.jwtVerify ${fmt(Number(v.jose_jwtVerify_per_s))}/s`)
      goal(`sigil/verify ${alg} / jose.jwtVerify`, Number(v.ratio), 0.9)
    }
  }

  if (wanted('workers')) {
    // Both on the same cores (wrk shares one of them), alternating, so each sees the same machine.
    const w: Record<1 | 2, Server> = {
      1: await startSigil({ cpus: WORKERS_CPUS, workers: 1, databaseUrl: db.url, redisUrl, name: 'sigil-workers-1', cwd: sigil.cwd }),
      2: await startSigil({ cpus: WORKERS_CPUS, workers: 2, databaseUrl: db.url, redisUrl, name: 'sigil-workers-2', cwd: sigil.cwd }),
    }
    servers.push(w[1], w[2])
    const req = (url: string) => post(`${url}/oauth2/token`, CC_BODY, { authorization: basic(CC_CLIENTS.ES256) })
    const runs: Record<1 | 2, LoadResult[]> = { 1: [], 2: [] }
    for (const n of [1, 2] as const) if (WARMUP_SEC > 0) await runLoad(req(w[n].url), { seconds: WARMUP_SEC, connections: CONNECTIONS, cpus: LOAD_CPU, serverPid: w[n].child.pid!, serverCpus: WORKERS_CPUS })
    for (let r = 0; r < ROUNDS; r++) {
      for (const n of r % 2 ? [2, 1] as const : [1, 2] as const) {
        runs[n].push(await runLoad(req(w[n].url), { seconds: SECONDS, connections: CONNECTIONS, cpus: LOAD_CPU, serverPid: w[n].child.pid!, serverCpus: WORKERS_CPUS }))
      }
    }
    const one = summarize(runs[1])
    const two = summarize(runs[2])
    for (const [n, x] of [[1, one], [2, two]] as const) {
      rows.push([`client_credentials, --workers ${n} (CPUs ${WORKERS_CPUS})`, 'sigil', fmt(x.rps), fmt(x.p50Ms, 2), fmt(x.p99Ms, 2), fmt(x.perCpuSec), fmt(x.cpuUse, 2), fmt(x.otherUse, 2), String(x.errors)])
    }
    jsonLines.push(JSON.stringify({
      bench: 'workers', scenario: 'client_credentials_es256', cpus: WORKERS_CPUS,
      workers_1: { req_per_s: round(one.rps), p99_ms: round(one.p99Ms, 2), req_per_cpu_s: round(one.perCpuSec), cpu_use: round(one.cpuUse, 2), errors: one.errors },
      workers_2: { req_per_s: round(two.rps), p99_ms: round(two.p99Ms, 2), req_per_cpu_s: round(two.perCpuSec), cpu_use: round(two.cpuUse, 2), errors: two.errors },
      ratio: round(two.rps / one.rps, 3),
    }))
    goal('--workers 2 / 1 req/s (client_credentials, PostgreSQL + Redis)', two.rps / one.rps, 1.6)
    await Promise.all([stopProcess(w[1].child), stopProcess(w[2].child)])
  }

  if (wanted('soak') && SOAK_SEC > 0) {
    const before = memoryMiB(sigil.child.pid!)
    const soak = await runLoad(await cc('ES256').sigil.request(), { seconds: SOAK_SEC, connections: CONNECTIONS, cpus: LOAD_CPU, serverPid: sigil.child.pid!, serverCpus: SERVER_CPU })
    const after = memoryMiB(sigil.child.pid!)
    jsonLines.push(JSON.stringify({ bench: 'soak', scenario: 'client_credentials_es256', seconds: SOAK_SEC, req_per_s: round(soak.rps), errors: soak.errors, rss_before_mib: before.rss, rss_after_mib: after.rss, peak_rss_mib: after.peak }))
    log(`bench: soak ${SOAK_SEC} s of client_credentials: RSS ${before.rss} MiB before, ${after.rss} MiB after, peak ${after.peak} MiB`)
    goal(`RSS after a ${SOAK_SEC} s soak / before`, after.rss / before.rss, 1.1, true)
  }

  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)))
  const line = (r: string[]) => r.map((c, i) => i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ')
  const out = [
    '',
    `Sigil bench — ${new Date().toISOString()}, ${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`,
    `wrk -t1 -c<conns> -d${SECONDS}s on CPU ${LOAD_CPU}, servers on CPU ${SERVER_CPU}, keep-alive; medians of ${ROUNDS} alternating rounds`,
    `CPU use: server CPU-s per second; others: share of the server's CPU(s) other processes took meanwhile`,
    `load average (1 min) at start ${loadAtStart.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}: other work on the machine shares these cores`,
    '',
    line(rows[0]!), ...rows.slice(1).map(line),
    '',
    ...goals.map(g => `${g.name.padEnd(66)} ${fmt(g.value, g.goal.startsWith('<') && g.value > 2 ? 1 : 2).padStart(6)}  goal ${g.goal.padEnd(6)} ${(g.met ? 'met' : 'NOT MET').padEnd(7)}${g.perCpu === undefined ? '' : `  (per CPU-s: ${fmt(g.perCpu, 2)})`}`),
    '',
    ...jsonLines,
  ]
  process.stdout.write(out.join('\n') + '\n')
  log(`bench: done in ${Math.round((Date.now() - started) / 1000)} s`)
} catch (err) {
  exitCode = 1
  log(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  for (const s of servers) log(`bench: ${s.name}'s log: ${s.logFile}`)
} finally {
  await Promise.all(servers.map(s => stopProcess(s.child)))
  await db.drop().catch(e => log(`bench: could not drop the scratch database: ${String(e)}`))
  await clearRedis(redisUrl).catch(() => {})
  if (PROF_DIR && exitCode === 0) {
    const newest = readdirSync(PROF_DIR).filter(f => f.endsWith('.cpuprofile')).map(f => join(PROF_DIR, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]
    if (newest) process.stdout.write(summarizeProfile(newest).join('\n') + '\n')
  }
  if (exitCode === 0) {
    rmSync(scratch, { recursive: true, force: true })
    for (const s of servers) rmSync(join(s.logFile, '..'), { recursive: true, force: true })
  }
}
process.exit(exitCode)
