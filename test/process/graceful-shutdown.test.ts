import { spawn } from 'node:child_process'
import http from 'node:http'
import { connect } from 'node:net'
import t, { type Test } from 'tap'
import { createPostgresDatabase, serverUrls } from '../helpers/backends.js'
import { httpRequest, type HttpAnswer } from '../helpers/load.js'
import { spawnService, type ServiceProcess } from '../helpers/process.js'
import { sigilHttp, WEB_BASIC, WEB_CLIENT } from '../helpers/sigil-http.js'
import { sleep } from '../helpers/clock.js'
import { PASSWORD } from '../helpers/app.js'

const servers = serverUrls()
const BURST = 200
const USER = { username: 'alice', password: PASSWORD }

/** A service on a fresh PostgreSQL database and Redis, with a confidential login client and a user. */
async function startService(t: Test, args: string[] = [], env: Record<string, string> = {}): Promise<ServiceProcess> {
  const databaseUrl = await createPostgresDatabase(t, { migrate: true })
  // 200 logins of one user at once would otherwise trip its failed-login back-off accounting.
  const s = await spawnService(t, { DATABASE_URL: databaseUrl, REDIS_URL: servers!.redisUrl, RATE_LIMIT_USER_FAILURES: '0', ...env }, { args })
  const api = sigilHttp(s.url)
  await api.createClient({ ...WEB_CLIENT, grant_types: ['password'], scopes: ['read'] })
  await api.createUser(USER)
  return s
}

const loginSpec = {
  method: 'POST' as const,
  headers: {
    authorization: WEB_BASIC,
    'content-type': 'application/x-www-form-urlencoded',
  },
  body: new URLSearchParams({ grant_type: 'password', ...USER, scope: 'read' }).toString(),
}

/**
 * 200 logins (argon2: seconds of work in all) in flight over connections opened beforehand, so
 * every request is on an accepted connection when SIGTERM comes; meanwhile /readyz is polled
 * on a keep-alive connection opened before the signal.
 */
async function sigtermDuringBurst(t: Test, s: ServiceProcess): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: BURST })
  const probe = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => { agent.destroy(); probe.destroy() })
  // All issued in one tick: the agent opens BURST connections, kept for the burst.
  await Promise.all(Array.from({ length: BURST }, () => httpRequest(agent, `${s.url}/healthz`)))
  t.equal((await httpRequest(probe, `${s.url}/readyz`)).status, 200, 'ready before the signal')

  let signalledAtMs = 0
  const answers: Array<{ status: number; atMs: number } | { error: string }> = []
  const burst = Array.from({ length: BURST }, () => httpRequest(agent, `${s.url}/oauth2/token`, loginSpec).then(
    a => { answers.push({ status: a.status, atMs: Date.now() }) },
    (err: Error) => { answers.push({ error: err.message }) },
  ))
  while (answers.length === 0) await sleep(5)
  signalledAtMs = Date.now()
  s.child.kill('SIGTERM')

  const readyz: HttpAnswer[] = []
  for (let i = 0; i < 200; i++) {
    const a = await httpRequest(probe, `${s.url}/readyz`, { timeoutMs: 10_000 }).catch((err: Error) => { t.comment(`poll: ${err.message} ${Date.now() - signalledAtMs} ms after SIGTERM`) })
    if (!a) break
    readyz.push(a)
    if (a.status === 503) break
    await sleep(10)
  }
  await Promise.all(burst)
  const code = await s.exited
  const afterSignal = answers.filter(a => 'atMs' in a && a.atMs > signalledAtMs).length
  t.comment(`${BURST} logins: ${afterSignal} answered after SIGTERM; /readyz during the drain: ${readyz.map(a => a.status).join(' ')}`)
  t.same(answers.filter(a => !('status' in a) || a.status !== 200), [], 'every login answered 200')
  t.equal(answers.length, BURST)
  t.ok(afterSignal > 0, 'some logins were still in flight at SIGTERM')
  const last = readyz.at(-1)
  t.equal(last?.status, 503, '/readyz answered 503 once draining began')
  t.ok(last?.reusedSocket, 'on the keep-alive connection opened before the signal')
  t.equal(code, 0, 'exit code 0')
}

t.test('graceful shutdown on PostgreSQL and Redis', { skip: servers ? false : 'needs DATABASE_URL and REDIS_URL' }, async t => {
  t.test('SIGTERM during a burst of 200 in-flight logins: every one answered, /readyz 503 while draining, exit 0', async t => {
    await sigtermDuringBurst(t, await startService(t))
  })

  t.test('the same with --workers 2: the primary drains every worker and exits 0', async t => {
    await sigtermDuringBurst(t, await startService(t, ['--workers', '2']))
  })

  t.test('a request still in flight after SHUTDOWN_TIMEOUT: exit 1', async t => {
    const s = await startService(t, [], { SHUTDOWN_TIMEOUT: '1' })
    // Headers and part of a body: the request is in flight, and stays so.
    const socket = connect(s.port, '127.0.0.1')
    t.teardown(() => socket.destroy())
    socket.write('POST /oauth2/token HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\ngrant_type')
    socket.on('error', () => {})
    await sleep(300)
    t.equal((await fetch(`${s.url}/healthz`)).status, 200)
    const started = Date.now()
    s.child.kill('SIGTERM')
    t.equal(await s.exited, 1, 'exit code 1')
    t.ok(Date.now() - started >= 900, 'after waiting SHUTDOWN_TIMEOUT')
    t.match(s.output(), /did not finish within SHUTDOWN_TIMEOUT/)
  })
})

t.test('an uncaught exception or unhandled rejection is logged as fatal and exits 1', async t => {
  for (const c of [
    { name: 'uncaught exception', crash: "setTimeout(() => { throw new Error('boom') }, 10)", msg: 'uncaught exception: exiting' },
    { name: 'unhandled rejection', crash: "Promise.reject(new Error('boom'))", msg: 'unhandled promise rejection: exiting' },
  ]) {
    t.test(c.name, async t => {
      const script = `const { exitOnCrash } = await import('./src/process/crash-handlers.ts')
        const { createLogger } = await import('./src/log.ts')
        exitOnCrash(createLogger('info'))
        ${c.crash}
        setTimeout(() => process.exit(0), 5000)`
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', d => { out += d })
      child.stderr.on('data', d => { out += d })
      const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
      t.equal(code, 1)
      const fatal = out.split('\n').filter(Boolean).map(l => JSON.parse(l) as { level: number; msg: string; err?: { message: string } })
      t.match(fatal, [{ level: 60, msg: c.msg, err: { message: 'boom' } }], 'one fatal pino line with the error')
    })
  }
})
