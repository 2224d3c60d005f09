import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runSigil } from '../helpers/cli.js'
import { TEST_KEK } from '../helpers/config.js'

/** `sigil users import …` on the embedded defaults in `cwd`; `input` is stdin. */
const sigilImport = (cwd: string, file: string, input = '') => runSigil(cwd, ['users', 'import', file], { env: { SIGIL_KEK: TEST_KEK }, input })

t.test('issue 13: sigil users import FILE reads a dumpdata file (or stdin) and is idempotent', async t => {
  const cwd = mkdtempSync(join(tmpdir(), 'sigil-users-import-'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const dump = [
    { model: 'auth.user', pk: 3, fields: { username: 'zoe', password: '!unusable', email: '', is_active: true, is_staff: false, is_superuser: false } },
    { model: 'auth.user', pk: 4, fields: { username: 'yan' } },
  ]
  writeFileSync(join(cwd, 'users.json'), JSON.stringify(dump))
  const first = sigilImport(cwd, 'users.json')
  t.equal(first.status, 0, first.stderr)
  t.match(first.json(), { created: 1, updated: 0, unchanged: 0, skipped: 1, skipped_entries: [{ index: 1, pk: 4, reason: /password/ }] })
  const again = sigilImport(cwd, '-', JSON.stringify(dump))
  t.equal(again.status, 0, again.stderr)
  t.match(again.json(), { created: 0, updated: 0, unchanged: 1, skipped: 1 })
})
