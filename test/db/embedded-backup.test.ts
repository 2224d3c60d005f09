import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createVerifier } from '../../src/verify/index.js'
import { spawnService } from '../helpers/process.js'
import { freePort } from '../helpers/server.js'
import { PASSWORD as USER_PASSWORD } from '../helpers/app.js'
import { sigilHttp, WEB_BASIC, WEB_CLIENT } from '../helpers/sigil-http.js'

// Issue 14, deliverable 3: the embedded database (PGlite in ./data) and the development KEK
// (./keys) backed up the way docs/operations.md says (stop the service, copy both
// directories) and restored into an empty directory: clients, users and signing keys survive,
// and an access token issued before the backup still verifies with sigil/verify. A copy taken
// while the server runs carries the running process's lock: it refuses to start while that
// process lives.

const CC = { client_id: 'svc', client_secret: 'svc-client-secret-0123456789-0123456789-abc' }
/** The embedded defaults: no servers, the KEK generated into ./keys. */
const EMBEDDED = { DATABASE_URL: '', REDIS_URL: '', SIGIL_KEK: '' }

t.test('issue 14: the embedded ./data and ./keys copied with the server stopped and restored keep clients, users, keys and issued tokens', { timeout: 90_000 }, async t => {
  const root = await mkdtemp(join(tmpdir(), 'sigil-backup-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const [home, backup, liveCopy] = ['home', 'backup', 'live-copy'].map(d => join(root, d)) as [string, string, string]
  await Promise.all([home, backup, liveCopy].map(d => mkdir(d)))
  const port = await freePort()
  const env = { ...EMBEDDED, ISSUER: `http://127.0.0.1:${port}` }
  const first = await spawnService(t, env, { cwd: home, port })
  const api = sigilHttp(first.url)
  await api.createClient({ ...CC, scopes: ['read'] })
  await api.createClient({ ...WEB_CLIENT, grant_types: ['password'], scopes: ['read'] })
  await api.createUser({ username: 'backed-up', password: USER_PASSWORD })
  const rotated = await api.rotate('ES256')
  const token = await api.token(CC)
  const kidsBefore = (await api.keys()).map(k => `${k.kid} ${k.state}`).sort()

  // A copy while it runs: the lock of the live process comes along.
  await cp(join(home, 'data'), join(liveCopy, 'data'), { recursive: true })
  await cp(join(home, 'keys'), join(liveCopy, 'keys'), { recursive: true })
  const whileRunning = await spawnService(t, { ...EMBEDDED, ISSUER: 'http://127.0.0.1' }, { cwd: liveCopy }).then(
    () => 'started', (err: Error) => err.message.split('\n').find(line => /sigil\.lock/.test(line)) ?? err.message)
  t.match(whileRunning, /sigil\.lock/, 'a copy taken while the server runs refuses to start while that server lives (its lock came along)')

  t.equal(await first.stop(), 0, 'the server stops cleanly (SIGTERM) before the backup')
  await cp(join(home, 'data'), join(backup, 'data'), { recursive: true })
  await cp(join(home, 'keys'), join(backup, 'keys'), { recursive: true })
  t.notOk((await readdir(join(backup, 'data'))).includes('sigil.lock'), 'a stopped server leaves no lock in the backup')
  await rm(join(home, 'data'), { recursive: true })
  await rm(join(home, 'keys'), { recursive: true })
  await cp(join(backup, 'data'), join(home, 'data'), { recursive: true })
  await cp(join(backup, 'keys'), join(home, 'keys'), { recursive: true })

  const restored = await spawnService(t, env, { cwd: home, port })
  const after = sigilHttp(restored.url)
  t.same((await after.keys()).map(k => `${k.kid} ${k.state}`).sort(), kidsBefore, 'the signing keys (and their states) survive, decrypted with the restored KEK')
  t.ok(kidsBefore.includes(`${rotated.current.kid} current`))
  t.ok((await after.token(CC)).length > 0, 'the client registered before the backup authenticates')
  const login = await fetch(`${restored.url}/oauth2/token`, {
    method: 'POST', headers: { authorization: WEB_BASIC }, body: new URLSearchParams({ grant_type: 'password', username: 'backed-up', password: USER_PASSWORD }),
  })
  t.equal(login.status, 200, 'the user made before the backup logs in')
  const claims = await createVerifier({ issuer: env.ISSUER, audience: env.ISSUER }).verify(token)
  t.equal(claims.client_id, CC.client_id, 'an access token issued before the backup verifies with sigil/verify against the restored server')
  const introspected = await fetch(`${restored.url}/oauth2/introspect`, {
    method: 'POST', headers: { authorization: 'Basic ' + Buffer.from(`${CC.client_id}:${CC.client_secret}`).toString('base64') }, body: new URLSearchParams({ token }),
  }).then(r => r.json() as Promise<{ active: boolean }>)
  t.comment(`embedded backup: copy while running -> ${whileRunning.slice(0, 300)}; after restore introspection of a pre-backup token says active=${introspected.active}`)
  t.equal(introspected.active, false, 'but Sigil itself treats it as inactive: the in-process store started empty (a new store generation), as after any restart')
})
