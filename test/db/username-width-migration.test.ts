import { PGlite } from '@electric-sql/pglite'
import t from 'tap'
import { applyMigrations, loadMigrations } from '../../src/db/migrate.js'
import { normalizeUsername } from '../../src/users/username.js'

const MIGRATION = '20261129050000_username_width'

t.test('issue 11: the migration folds fullwidth ASCII in stored usernames, leaving twins of existing users alone', async t => {
  const db = await PGlite.create()
  t.teardown(() => db.close())
  const migrations = await loadMigrations()
  const at = migrations.findIndex(m => m.name === MIGRATION)
  t.ok(at > 0, 'the migration exists')
  await applyMigrations(db, migrations.slice(0, at))
  // Normalized as before issue 11: NFC, then lower case.
  const rows = [['1', 'alice'], ['2', '\uff41lice'], ['3', 'b\uff4fb'], ['4', 'c\uff41rol'], ['5', 'c\uff41r\uff4fl'], ['6', 'dave']]
  for (const [id, username] of rows) {
    await db.query(`INSERT INTO users (id, username_normalized, username, password_hash) VALUES ($1, $2, $2, 'x')`, [id, username])
  }
  await applyMigrations(db, migrations)
  const stored = Object.fromEntries((await db.query<{ id: string; username_normalized: string }>('SELECT id, username_normalized FROM users')).rows
    .map(r => [r.id, r.username_normalized]))
  t.same(stored, {
    1: 'alice',
    2: '\uff41lice', // "alice" is taken: the twin keeps its old form and no longer matches a login
    3: 'bob',
    4: 'carol', // the first of two rows folding to one form
    5: 'c\uff41r\uff4fl',
    6: 'dave',
  })
  t.equal(stored[3], normalizeUsername('b\uff4fb'), 'a folded row is found under the form logins now use')
})
