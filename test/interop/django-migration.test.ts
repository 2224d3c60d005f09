import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { decodeJwt } from 'jose'
import t from 'tap'
import { adminRequest } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { startDjango } from '../helpers/django.js'
import { pythonForInterop } from '../helpers/python.js'
import { startTestServer } from '../helpers/server.js'

const MODULES = ['django', 'rest_framework', 'rest_framework_simplejwt', 'jwt', 'cryptography', 'argon2', 'bcrypt']
const MAKE_USERS = resolve(import.meta.dirname, 'django_users.py')

interface DjangoUsers {
  dump: unknown[]
  users: Array<{ username: string; password: string; pk: number; can_log_in: boolean }>
}

const { python, skip } = pythonForInterop(MODULES)

/** Users made by Django's create_user under each hasher, and their dumpdata (test/interop/django_users.py). */
function makeDjangoUsers(python: string): DjangoUsers {
  const r = spawnSync(python, [MAKE_USERS], { encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) throw new Error(`django_users.py exited ${r.status}: ${r.stderr}`)
  return JSON.parse(r.stdout) as DjangoUsers
}

const djangoUsers = python === undefined ? undefined : makeDjangoUsers(python)

for (const backend of backends()) {
  t.test(backend.name, { skip }, async t => {
    if (python === undefined || djangoUsers === undefined) return
    const { app, issuer } = await startTestServer(t, backend)
    const { dump, users } = djangoUsers
    const api = (path: string, body: unknown) =>
      fetch(`${issuer}/api/token/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

    t.test('issue 13: a Django dumpdata imports whole, and a second import changes nothing', async t => {
      const first = await adminRequest(app, 'POST', '/admin/users/import', dump)
      t.same(first.json(), { created: users.length, updated: 0, unchanged: 0, skipped: 0, skipped_entries: [] }, first.body)
      const second = await adminRequest(app, 'POST', '/admin/users/import', dump)
      t.same(second.json(), { created: 0, updated: 0, unchanged: users.length, skipped: 0, skipped_entries: [] })
    })

    t.test('issue 13: every Django hasher logs in through /api/token/ with user_id = the Django pk; inactive and unusable do not', async t => {
      for (const u of users) {
        const r = await api('', { username: u.username, password: u.password || 'any password at all' })
        if (!u.can_log_in) {
          t.equal(r.status, 401, u.username)
          t.same(await r.json(), { detail: 'No active account found with the given credentials' }, u.username)
          t.equal(r.headers.get('www-authenticate'), 'Bearer realm="api"')
          continue
        }
        t.equal(r.status, 200, u.username)
        const claims = decodeJwt(((await r.json()) as { access: string }).access)
        t.equal(claims.user_id, u.pk, `${u.username}: user_id is the Django pk, a JSON integer`)
        t.equal(claims.username, u.username)
        t.equal(claims.is_superuser, u.username === 'boss')
        const wrong = await api('', { username: u.username, password: `${u.password}!` })
        t.equal(wrong.status, 401, `${u.username}: a wrong password`)
      }
      // After each first login the hash is Sigil's argon2id: the second login verifies that one.
      const again = await api('', { username: users[0]!.username, password: users[0]!.password })
      t.equal(again.status, 200, 'logs in again after the rehash')
    })

    t.test('issue 13: a DRF API with stock simplejwt settings accepts /api/token/ and /api/token/refresh/ access tokens', async t => {
      const django = await startDjango(t, python, { SIGIL_ISSUER: issuer, SIGIL_AUDIENCE: issuer, SIGIL_ALGORITHM: 'ES256' })
      const whoami = (token: string) => fetch(`${django}/api/whoami`, { headers: { authorization: `Bearer ${token}` } })
      const boss = users.find(u => u.username === 'boss')!
      const pair = (await (await api('', { username: boss.username, password: boss.password })).json()) as { access: string; refresh: string }
      const first = await whoami(pair.access)
      t.equal(first.status, 200)
      t.equal(((await first.json()) as { user_id: unknown }).user_id, boss.pk, "TokenUser's id is the Django pk")
      const refreshed = (await (await api('refresh/', { refresh: pair.refresh })).json()) as { access: string }
      t.equal((await whoami(refreshed.access)).status, 200, 'the refreshed access token')
      const [h, p] = refreshed.access.split('.')
      const forged = Buffer.from(JSON.stringify({ ...decodeJwt(refreshed.access), user_id: 1 })).toString('base64url')
      t.not(forged, p)
      t.equal((await whoami(`${h}.${forged}.${refreshed.access.split('.')[2]}`)).status, 401, 'a tampered token')
    })
  })
}
