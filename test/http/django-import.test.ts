import { decodeJwt } from 'jose'
import t from 'tap'
import { adminRequest, buildTestApp } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

// pbkdf2_sha256 of 'Crème brûlée 1', made by Django 3.2's make_password.
const PASSWORD = 'Crème brûlée 1'
const HASH = 'pbkdf2_sha256$260000$sfFnuVSd0GvOwqx9q6lTyh$S39nwWzcPSfKkN9c2LmeL/eCIUZ8CmhhbJAP80BEl3w='
const BCRYPT = 'bcrypt$$2b$12$VWoKhwpZY50.SttA4.GtTe1FBhFeIYytd8dMbLBisU/7I4fyE59Sq'

const entry = (pk: number, username: string, fields: Record<string, unknown> = {}) => ({
  model: 'auth.user', pk,
  fields: {
    password: HASH, last_login: null, is_superuser: false, username, first_name: '', last_name: '', email: `${username}@example.com`,
    is_staff: false, is_active: true, date_joined: '2024-01-01T00:00:00Z', groups: [], user_permissions: [], ...fields,
  },
})

const DUMP = [
  entry(7, 'alice', { is_staff: true, is_superuser: true, first_name: 'Alice', last_name: 'Liddell' }),
  entry(8, 'bob', { is_active: false }),
  entry(9, 'carol', { password: '!unusableRandomText0123456789' }),
  entry(10, 'dave', { password: BCRYPT, email: '' }),
  entry(11, 'eve', { password: 'md5$bKftLvXVcCr0T1IQbTnBWF$710c90b91cd753c5f94c06aa8df55d5e' }),
  { model: 'auth.group', pk: 1, fields: { name: 'staff' } },
  { model: 'auth.user', pk: 'twelve', fields: {} },
  'not an object',
]

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, services } = await buildTestApp(t, backend)
    const login = (username: string, password = PASSWORD) =>
      app.inject({ method: 'POST', url: '/api/token/', payload: { username, password } })

    t.test('issue 13: an import keeps Django pks, flags and hashes; a second run changes nothing', async t => {
      const first = await adminRequest(app, 'POST', '/admin/users/import', DUMP)
      t.equal(first.statusCode, 200, first.body)
      t.match(first.json(), { created: 4, updated: 0, unchanged: 0, skipped: 4 })
      t.same(first.json().skipped_entries.map((s: { index: number }) => s.index), [4, 5, 6, 7])
      t.match(first.json().skipped_entries[0].reason, /md5 is not supported/)
      const again = await adminRequest(app, 'POST', '/admin/users/import', DUMP)
      t.match(again.json(), { created: 0, updated: 0, unchanged: 4, skipped: 4 })
      const alice = await services.users.repo.findByUsername('alice')
      t.match(alice, { djangoId: 7, isStaff: true, isSuperuser: true, email: 'alice@example.com', disabled: false })
      t.equal((await services.users.repo.findByUsername('dave'))!.email, null, "Django's blank email is none")
    })

    t.test('issue 13: imported users log in through /api/token/ as Django would let them; user_id is the Django pk', async t => {
      const r = await login('alice')
      t.equal(r.statusCode, 200, r.body)
      const claims = decodeJwt(r.json().access)
      t.equal(claims.user_id, 7, 'a JSON integer')
      t.match(claims, { username: 'alice', is_staff: true, is_superuser: true, token_type: 'access' })
      t.equal((await login('dave')).statusCode, 200, 'bcrypt')
      for (const [who, password] of [['alice', 'wrong'], ['bob', PASSWORD], ['carol', PASSWORD], ['eve', PASSWORD]] as const) {
        const refused = await login(who, password)
        t.equal(refused.statusCode, 401, who)
        t.same(refused.json(), { detail: 'No active account found with the given credentials' })
      }
    })

    t.test('issue 13: the first login rehashes to argon2id, and a re-import keeps that hash until Django changes its own', async t => {
      const stored = await services.users.repo.findByUsername('alice')
      t.match(stored!.passwordHash, /^\$argon2id\$/, 'rehashed at the earlier login')
      const again = await adminRequest(app, 'POST', '/admin/users/import', DUMP)
      t.match(again.json(), { created: 0, updated: 0, unchanged: 4 })
      t.equal((await login('alice')).statusCode, 200)
      const changed = await adminRequest(app, 'POST', '/admin/users/import', [entry(7, 'alice', { password: BCRYPT, is_active: false })])
      t.match(changed.json(), { created: 0, updated: 1, unchanged: 0, skipped: 0 })
      t.equal((await services.users.repo.findByUsername('alice'))!.passwordHash, BCRYPT, "Django's new hash replaces it")
      t.equal((await login('alice')).statusCode, 401, 'now inactive')
    })

    t.test('issue 13: a username held by a user not from Django is skipped, not taken over; a non-array is 400', async t => {
      await adminRequest(app, 'POST', '/admin/users', { username: 'mallory', password: 'a long enough password' })
      const r = await adminRequest(app, 'POST', '/admin/users/import', [entry(20, 'Mallory')])
      t.match(r.json(), { created: 0, skipped: 1, skipped_entries: [{ index: 0, pk: 20, reason: /another user holds/ }] })
      const bad = await adminRequest(app, 'POST', '/admin/users/import', { users: [] })
      t.equal(bad.statusCode, 400)
      t.equal(bad.json().error, 'invalid_request')
    })
  })
}
