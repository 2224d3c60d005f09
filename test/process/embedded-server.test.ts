import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { LOCK_FILE } from '../../src/db/data-dir-lock.js'
import { freePort } from '../helpers/server.js'
import { runCli, spawnService } from '../helpers/process.js'
import { sigilHttp } from '../helpers/sigil-http.js'

const PASSWORD = 'Embedded-password-7c2d'
/** The embedded defaults throughout: PGlite in ./data, the development KEK in ./keys. */
const EMBEDDED = { DATABASE_URL: '', REDIS_URL: '', SIGIL_KEK: '' }

/** Every path under `root` whose mode is not 0700 (directories) or 0600 (files), with its mode. */
function notPrivate(root: string): string[] {
  const out: string[] = []
  const visit = (path: string) => {
    const st = lstatSync(path)
    const mode = st.mode & 0o777
    if (st.isDirectory()) {
      if (mode !== 0o700) out.push(`${path} 0${mode.toString(8)}`)
      for (const name of readdirSync(path)) visit(join(path, name))
    } else if (mode !== 0o600) {
      out.push(`${path} 0${mode.toString(8)}`)
    }
  }
  visit(root)
  return out
}

t.test('issue 11: `sigil serve` on the embedded defaults, started under umask 000', async t => {
  const cwd = mkdtempSync(join(tmpdir(), 'sigil-embedded-'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const server = await spawnService(t, EMBEDDED, { cwd, umask: '000' })
  const http = sigilHttp(server.url)
  await http.createUser({ username: 'alice', password: PASSWORD })
  const pid = server.child.pid!

  t.test('files at rest are private: data/ and keys/ are 0700, every file in them 0600', async t => {
    const data = notPrivate(join(cwd, 'data'))
    t.same(data, [], 'data/')
    t.same(notPrivate(join(cwd, 'keys')), [], 'keys/')
    t.ok(readdirSync(join(cwd, 'data')).length > 5, 'the database is there')
  })

  t.test('/metrics answers on the management port only', async t => {
    t.equal((await fetch(`${server.url}/metrics`)).status, 404)
    const scraped = await fetch(`${server.managementUrl}/metrics`)
    t.equal(scraped.status, 200)
    t.match(await scraped.text(), /sigil_http_requests_total/)
  })

  t.test('a second process on ./data is refused at once with one line naming the holder, and writes nothing', async t => {
    const [port, managementPort] = [await freePort(), await freePort()]
    const refused = await Promise.all([
      ['users', 'create', '--username', 'bob'],
      ['clients', 'create', '--auth-method', 'client_secret_basic', '--grant-types', 'client_credentials', '--client-id', 'cli-made'],
      ['serve'],
    ].map(async args => ({
      args,
      ...await runCli(cwd, args, { env: { ...EMBEDDED, SIGIL_USER_PASSWORD: PASSWORD, PORT: String(port), MANAGEMENT_PORT: String(managementPort) } }),
    })))
    for (const r of refused) {
      t.equal(r.status, 1, `sigil ${r.args.join(' ')}`)
      t.match(r.stderr, new RegExp(`^sigil: \\./data is in use by another Sigil process \\(pid ${pid}, \`sigil serve\`, since [^)]+\\): stop it first, or use the admin API[^\\n]*\\n$`), `sigil ${r.args.join(' ')}: ${r.stderr}`)
      if (r.args[0] !== 'serve') t.equal(r.stdout, '', 'no result printed')
    }
    // The running server never heard of them: both names are still free.
    await http.createUser({ username: 'bob', password: PASSWORD })
    await http.createClient({ client_id: 'cli-made', client_secret: 'a-client-secret-long-enough-0123456789' })
  })

  t.test('stopped, it releases the lock; a lock left by a dead process is taken over', async t => {
    t.equal(await server.stop(), 0)
    t.notOk(existsSync(join(cwd, 'data', LOCK_FILE)), 'the lock file is gone')
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    writeFileSync(join(cwd, 'data', LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), command: 'sigil serve', since: 'then' }))
    const carol = await runCli(cwd, ['users', 'create', '--username', 'carol'], { env: { ...EMBEDDED, SIGIL_USER_PASSWORD: PASSWORD }, umask: '000' })
    t.equal(carol.status, 0, carol.stderr)
    t.notOk(existsSync(join(cwd, 'data', LOCK_FILE)), 'released again at exit')
    t.same(notPrivate(join(cwd, 'data')), [], 'what the CLI wrote under umask 000 is private too')
  })

  t.test('a KEK file others can read stops the process with one line and exit code 2', async t => {
    chmodSync(join(cwd, 'keys', 'kek'), 0o644)
    const r = await runCli(cwd, ['keys', 'list'], { env: EMBEDDED })
    t.equal(r.status, 2)
    t.equal(r.stderr, 'sigil: development KEK: keys/kek is open to other users (mode 0644): chmod 600 keys/kek\n')
  })
})
