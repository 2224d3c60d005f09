import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { exercise } from '../helpers/cli.js'

t.test('the CLI on the embedded defaults (PGlite in ./data, dev KEK in ./keys)', async t => {
  const cwd = mkdtempSync(join(tmpdir(), 'sigil-cli-'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  await exercise(t, cwd, {})
  t.equal(statSync(join(cwd, 'keys', 'kek')).mode & 0o777, 0o600, 'the development KEK is private to its owner')
  t.ok(statSync(join(cwd, 'data')).isDirectory())
})
