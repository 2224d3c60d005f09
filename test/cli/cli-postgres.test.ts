import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadMigrations } from '../../src/db/migrate.js'
import { createPostgresDatabase, serverUrls } from '../helpers/backends.js'
import { exercise, sigil } from '../helpers/cli.js'
import { TEST_KEK } from '../helpers/config.js'

const servers = serverUrls()

t.test('the CLI on PostgreSQL', { skip: servers ? false : 'needs DATABASE_URL' }, async t => {
  const databaseUrl = await createPostgresDatabase(t)
  const cwd = mkdtempSync(join(tmpdir(), 'sigil-cli-'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const env = { DATABASE_URL: databaseUrl, SIGIL_KEK: TEST_KEK }
  const early = sigil(cwd, env, 'keys', 'list')
  t.equal(early.status, 1)
  t.match(early.stderr, /pending migration.*sigil migrate/)
  t.same(sigil(cwd, env, 'migrate').json(), { applied: (await loadMigrations()).map(m => m.name) })
  await exercise(t, cwd, env)
})
