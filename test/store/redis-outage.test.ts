import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { createLogger } from '../../src/log.js'
import { createServices } from '../../src/services.js'
import { createRedisStore } from '../../src/store/redis/redis-store.js'
import { ADMIN, adminRequest, postToken } from '../helpers/app.js'
import { backends, openTestDatabase } from '../helpers/backends.js'
import { fixedClock, sleep } from '../helpers/clock.js'
import { testConfig } from '../helpers/config.js'
import { freePort } from '../helpers/server.js'

const hasRedis = spawnSync('redis-server', ['--version']).status === 0
if (!hasRedis && process.env.CI === 'true') throw new Error('CI=true but redis-server is not installed')

/** A redis-server of this test's own, on a free port, persisting to its own directory. */
async function ownRedis(t: Test) {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'sigil-redis-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let child: ReturnType<typeof spawn> | undefined
  const start = async () => {
    child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' })
    for (let i = 0; i < 100; i++) {
      if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.includes('PONG')) return
      await sleep(50)
    }
    throw new Error('redis-server did not start')
  }
  const stop = async () => {
    const c = child
    if (!c || c.exitCode !== null) return
    const exited = new Promise(r => c.on('exit', r))
    c.kill('SIGTERM')
    await exited
  }
  t.teardown(stop)
  await start()
  return { url: `redis://127.0.0.1:${port}`, start, stop }
}

t.test('Redis down: refresh fails closed with 503, then recovers with no restart', { skip: hasRedis ? false : 'redis-server is not installed' }, async t => {
  const redis = await ownRedis(t)
  const db = await openTestDatabase(t, backends().at(-1)!.db)
  const store = createRedisStore({ url: redis.url, prefix: 'outage:' })
  const services = await createServices(testConfig({ adminClient: ADMIN }), { clock: fixedClock(), log: createLogger('silent'), db, store, keyReloadMs: 60_000 })
  await services.start()
  const app = await buildApp(services)
  t.teardown(async () => { await app.close(); await services.close() })

  await adminRequest(app, 'POST', '/admin/clients', { client_id: 'app', token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['read'] })
  await adminRequest(app, 'POST', '/admin/users', { username: 'bob', password: 'a long enough password' })
  const login = () => postToken(app, { grant_type: 'password', client_id: 'app', username: 'bob', password: 'a long enough password' })
  const first = await login()
  t.equal(first.statusCode, 200, first.body)
  const refreshToken = first.json().refresh_token as string
  const refresh = () => postToken(app, { grant_type: 'refresh_token', client_id: 'app', refresh_token: refreshToken })

  await redis.stop()
  for (const [name, attempt] of [['refresh', refresh], ['login', login]] as const) {
    const r = await attempt()
    t.equal(r.statusCode, 503, `${name}: ${r.body}`)
    t.equal(r.json().error, 'temporarily_unavailable')
    t.notOk(r.json().access_token, 'no token issued')
  }
  t.equal((await app.inject('/readyz')).statusCode, 503, 'not ready without the store')

  await redis.start()
  let recovered = await refresh()
  for (let i = 0; i < 50 && recovered.statusCode === 503; i++) {
    await sleep(100)
    recovered = await refresh()
  }
  t.equal(recovered.statusCode, 200, `the same refresh token works after Redis is back: ${recovered.body}`)
  t.equal((await app.inject('/readyz')).statusCode, 200)
})
