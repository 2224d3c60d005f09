import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { adminRequest, PASSWORD } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { pythonForInterop } from '../helpers/python.js'
import { freePort, startTestServer } from '../helpers/server.js'
import { sleep } from '../helpers/clock.js'

const STOCK = resolve(import.meta.dirname, 'stock_simplejwt.py')
const { python, skip } = pythonForInterop(['django', 'rest_framework', 'rest_framework_simplejwt'])

interface Answer { status: number; body: unknown; challenge: string | null }
interface Surface {
  post(path: string, body: string, contentType?: string): Promise<Answer>
  get(path: string): Promise<Answer>
}

function surface(base: string): Surface {
  const answer = async (r: Response): Promise<Answer> => ({ status: r.status, body: await r.json(), challenge: r.headers.get('www-authenticate') })
  return {
    post: async (path, body, contentType = 'application/json') =>
      answer(await fetch(`${base}/api/token/${path}`, { method: 'POST', headers: { 'content-type': contentType }, body })),
    get: async path => answer(await fetch(`${base}/api/token/${path}`)),
  }
}

/** The stock views (test/interop/stock_simplejwt.py) on a free port, killed by pid at teardown. */
async function startStock(t: { teardown(fn: () => unknown): void }, python: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'stock-simplejwt-'))
  const port = await freePort()
  const child = spawn(python, [STOCK, String(port), join(dir, 'db.sqlite3')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } })
  let output = ''
  child.stdout.on('data', d => { output += d })
  child.stderr.on('data', d => { output += d })
  t.teardown(() => {
    if (child.exitCode === null) child.kill()
    rmSync(dir, { recursive: true, force: true })
  })
  const base = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`stock simplejwt exited ${child.exitCode}: ${output}`)
    if (Date.now() > deadline) throw new Error(`stock simplejwt not up after 60 s: ${output}`)
    if (await fetch(`${base}/api/token/`).then(r => r.status === 405, () => false)) return base
    await sleep(100)
  }
}

const json = (v: unknown) => JSON.stringify(v)
/** Changes one character in the middle of the last segment: the token no longer verifies. */
const tamper = (token: string) => {
  const i = token.length - 10
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1)
}
const pair = async (s: Surface) => (await s.post('', json({ username: 'alice', password: PASSWORD }))).body as { access: string; refresh: string }
const rotated = async (s: Surface) => {
  const p = await pair(s)
  await s.post('refresh/', json({ refresh: p.refresh }))
  return p.refresh
}

/** Each row asks one surface, after whatever setup it needs there; `compare` says how far the answers must agree. */
const ROWS: Array<{ name: string; ask(s: Surface): Promise<Answer>; compare?: 'keys' | 'detail-prefix' }> = [
  { name: 'login', ask: s => s.post('', json({ username: 'alice', password: PASSWORD })), compare: 'keys' },
  { name: 'login with a form body', ask: s => s.post('', new URLSearchParams({ username: 'alice', password: PASSWORD }).toString(), 'application/x-www-form-urlencoded'), compare: 'keys' },
  { name: 'wrong password', ask: s => s.post('', json({ username: 'alice', password: 'wrong' })) },
  { name: 'unknown user', ask: s => s.post('', json({ username: 'nobody', password: PASSWORD })) },
  { name: 'inactive user', ask: s => s.post('', json({ username: 'bob', password: PASSWORD })) },
  { name: 'unusable password', ask: s => s.post('', json({ username: 'carol', password: PASSWORD })) },
  { name: 'login {}', ask: s => s.post('', '{}') },
  { name: 'login, only username', ask: s => s.post('', json({ username: 'alice' })) },
  { name: 'login, both blank', ask: s => s.post('', json({ username: '', password: '' })) },
  { name: 'malformed JSON', ask: s => s.post('', '{"username":'), compare: 'detail-prefix' },
  { name: 'a text/plain body', ask: s => s.post('', 'hello', 'text/plain') },
  { name: 'a JSON list', ask: s => s.post('', '[1]') },
  { name: 'null and object fields', ask: s => s.post('', json({ username: null, password: { a: 1 } })) },
  ...['', 'refresh/', 'verify/', 'blacklist/'].map(path => ({ name: `GET /api/token/${path}`, ask: (s: Surface) => s.get(path) })),
  { name: 'refresh', ask: async s => s.post('refresh/', json({ refresh: (await pair(s)).refresh })), compare: 'keys' },
  { name: 'refresh with a rotated token', ask: async s => s.post('refresh/', json({ refresh: await rotated(s) })) },
  { name: 'refresh with a blacklisted token', ask: async s => {
    const { refresh } = await pair(s)
    await s.post('blacklist/', json({ refresh }))
    return s.post('refresh/', json({ refresh }))
  } },
  { name: 'refresh garbage', ask: s => s.post('refresh/', json({ refresh: 'garbage' })) },
  { name: 'refresh tampered', ask: async s => s.post('refresh/', json({ refresh: tamper((await pair(s)).refresh) })) },
  { name: 'refresh with an access token', ask: async s => s.post('refresh/', json({ refresh: (await pair(s)).access })) },
  { name: 'refresh {}', ask: s => s.post('refresh/', '{}') },
  { name: 'refresh blank', ask: s => s.post('refresh/', json({ refresh: '' })) },
  { name: 'verify an access token', ask: async s => s.post('verify/', json({ token: (await pair(s)).access })) },
  { name: 'verify a live refresh token', ask: async s => s.post('verify/', json({ token: (await pair(s)).refresh })) },
  { name: 'verify garbage', ask: s => s.post('verify/', json({ token: 'garbage' })) },
  { name: 'verify a tampered access token', ask: async s => s.post('verify/', json({ token: tamper((await pair(s)).access) })) },
  { name: 'verify a rotated refresh token', ask: async s => s.post('verify/', json({ token: await rotated(s) })) },
  { name: 'verify {}', ask: s => s.post('verify/', '{}') },
  { name: 'blacklist', ask: async s => s.post('blacklist/', json({ refresh: (await pair(s)).refresh })) },
  { name: 'blacklist again', ask: async s => {
    const { refresh } = await pair(s)
    await s.post('blacklist/', json({ refresh }))
    return s.post('blacklist/', json({ refresh }))
  } },
  { name: 'blacklist garbage', ask: s => s.post('blacklist/', json({ refresh: 'garbage' })) },
  { name: 'blacklist an access token', ask: async s => s.post('blacklist/', json({ refresh: (await pair(s)).access })) },
  { name: 'blacklist {}', ask: s => s.post('blacklist/', '{}') },
]

const [backend] = backends()
t.test('issue 13: every row of the table gives the same status and body on Sigil as on stock simplejwt', { skip }, async t => {
  if (python === undefined || backend === undefined) return
  const [stockBase, sigil] = await Promise.all([startStock(t, python), startTestServer(t, backend)])
  for (const username of ['alice', 'bob']) await adminRequest(sigil.app, 'POST', '/admin/users', { username, password: PASSWORD })
  await sigil.services.db.prisma.user.updateMany({ where: { username: 'bob' }, data: { disabled: true } })
  await adminRequest(sigil.app, 'POST', '/admin/users/import', [{ model: 'auth.user', pk: 3, fields: { username: 'carol', password: '!x' } }])
  const stock = surface(stockBase)
  const ours = surface(sigil.issuer)
  for (const row of ROWS) {
    const [want, got] = [await row.ask(stock), await row.ask(ours)]
    t.equal(got.status, want.status, `${row.name}: status`)
    if (want.status === 401) t.equal(got.challenge, want.challenge, `${row.name}: challenge`)
    if (row.compare === 'keys') t.same(Object.keys(got.body as object).sort(), Object.keys(want.body as object).sort(), `${row.name}: keys`)
    else if (row.compare === 'detail-prefix') t.match(got.body, { detail: /^JSON parse error - / }, `${row.name}: body`)
    else t.same(got.body, want.body, `${row.name}: body`)
  }
})
