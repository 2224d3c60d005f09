import { spawn } from 'node:child_process'
import t from 'tap'
import { createPostgresDatabase, serverUrls } from '../helpers/backends.js'
import { childPids, httpRequest, startLoad } from '../helpers/load.js'
import { cliArgs, spawnService, type ServiceProcess } from '../helpers/process.js'
import { sigilHttp } from '../helpers/sigil-http.js'
import { sleep } from '../helpers/clock.js'
import { basicAuthorization } from '../helpers/app.js'

const servers = serverUrls()
const CLIENT = { client_id: 'svc', client_secret: 'svc-client-secret-0123456789-0123456789-abc' }

/** Polls until `done()` or `ms` pass; true when done. */
async function waitFor(done: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await done()) return true
    await sleep(100)
  }
  return done()
}

t.test('--workers 2 on the embedded defaults is refused with one line and exit code 2', async t => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && k !== 'REDIS_URL'))
  const child = spawn(process.execPath, [...cliArgs(), 'serve', '--workers', '2'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', d => { stderr += d })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  t.equal(code, 2)
  t.equal(stderr, 'sigil: --workers 2 needs DATABASE_URL and REDIS_URL: the embedded database and store live in one process\n')
})

t.test('--workers 2 on PostgreSQL and Redis', { skip: servers ? false : 'needs DATABASE_URL and REDIS_URL' }, async t => {
  const databaseUrl = await createPostgresDatabase(t, { migrate: true })
  const s: ServiceProcess = await spawnService(t, { DATABASE_URL: databaseUrl, REDIS_URL: servers!.redisUrl, LOG_LEVEL: 'info' }, { args: ['--workers', '2'] })
  const primary = s.child.pid!
  // /readyz answers as soon as one worker listens; the primary says when both are up.
  t.ok(await waitFor(async () => /workers listening/.test(s.output()) && (await childPids(primary)).length === 2, 30_000), 'two workers')
  await sigilHttp(s.url).createClient({ ...CLIENT, scopes: ['read'] })

  t.test('issue 11: the workers share the management port: /metrics there, 404 on the public port', async t => {
    for (let i = 0; i < 4; i++) {
      t.equal((await fetch(`${s.url}/metrics`)).status, 404)
      const scraped = await fetch(`${s.managementUrl}/metrics`)
      t.equal(scraped.status, 200)
      t.match(await scraped.text(), /sigil_http_requests_total/)
    }
  })

  t.test('a worker that dies is replaced', async t => {
    const before = await childPids(primary)
    process.kill(before[0]!, 'SIGKILL')
    const replaced = await waitFor(async () => /replacement worker listening/.test(s.output()), 30_000)
    t.ok(replaced, `worker ${before[0]} replaced: ${(await childPids(primary)).join(', ')}`)
    t.equal((await fetch(`${s.url}/readyz`)).status, 200)
    t.match(s.output(), /worker died unexpectedly/)
  })

  t.test('SIGHUP replaces every worker, one at a time, without losing a request under load', async t => {
    const before = await childPids(primary)
    const auth = basicAuthorization(CLIENT.client_id, CLIENT.client_secret)
    const load = startLoad({
      concurrency: 4,
      send: (agent, n) => n % 2 === 0
        ? httpRequest(agent, `${s.url}/oauth2/token`, {
          method: 'POST', body: 'grant_type=client_credentials&scope=read',
          headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
        })
        : httpRequest(agent, `${s.url}/.well-known/jwks.json`),
      ok: a => a.status === 200,
      maxMs: 90_000,
    })
    await sleep(500)
    process.kill(primary, 'SIGHUP')
    const reloaded = await waitFor(async () => {
      const now = await childPids(primary)
      return now.length === 2 && now.every(pid => !before.includes(pid))
    }, 60_000)
    await sleep(500)
    const report = await load.stop()
    t.comment(`during the reload: ${report.sent} requests sent, ${report.failures.length} failed; statuses ${JSON.stringify(report.statuses)}`)
    t.ok(reloaded, `workers ${before.join(', ')} replaced by ${(await childPids(primary)).join(', ')}`)
    t.ok(report.sent > 100, 'the load ran throughout')
    t.same(report.failures, [], 'no request lost')
    t.match(s.output(), /reload done/)
  })

  t.test('SIGTERM to the primary drains the workers and exits 0', async t => {
    t.equal(await s.stop(), 0)
    t.match(s.output(), /every worker drained/)
  })
})
