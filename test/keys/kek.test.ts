import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError } from '../../src/config.js'
import { loadKek } from '../../src/keys/kek.js'
import { createLogger } from '../../src/log.js'

const log = createLogger('silent')

t.test('issue 11: a KEK file others may read, or its group may write, is refused with one line', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-kek-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'kek')
  writeFileSync(file, randomBytes(32).toString('base64'))
  for (const c of [
    { mode: 0o600, ok: true },
    { mode: 0o400, ok: true },
    { mode: 0o440, ok: true, why: 'group read: Kubernetes Secret volumes are root:fsGroup 0440' },
    { mode: 0o644, ok: false, error: /^SIGIL_KEK_FILE: .*\/kek is open to other users \(mode 0644\): chmod 600 / },
    { mode: 0o604, ok: false, error: /^SIGIL_KEK_FILE: .* open to other users \(mode 0604\)/ },
    { mode: 0o620, ok: false, error: /^SIGIL_KEK_FILE: .* open to its group for writing \(mode 0620\)/ },
  ]) {
    chmodSync(file, c.mode)
    const loading = loadKek({ kek: undefined, kekFile: file, keysDir: dir }, log)
    if (c.ok) await t.resolves(loading, `0${c.mode.toString(8)} is accepted${c.why ? ` (${c.why})` : ''}`)
    else {
      const err = await loading.then(() => undefined, (e: unknown) => e)
      t.type(err, ConfigError, `0${c.mode.toString(8)} is refused`)
      t.match((err as Error).message, c.error)
      t.notMatch((err as Error).message, /\n/)
    }
  }
})

t.test('issue 11: the development KEK is made 0600 in a 0700 keys/ whatever the umask', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-kek-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const keysDir = join(dir, 'keys')
  const before = process.umask(0)
  t.teardown(() => { process.umask(before) })
  await loadKek({ kek: undefined, kekFile: undefined, keysDir }, log)
  t.equal(statSync(keysDir).mode & 0o777, 0o700)
  t.equal(statSync(join(keysDir, 'kek')).mode & 0o777, 0o600)
  chmodSync(join(keysDir, 'kek'), 0o640)
  await t.resolves(loadKek({ kek: undefined, kekFile: undefined, keysDir }, log), 'the same key is read again')
  chmodSync(join(keysDir, 'kek'), 0o666)
  await t.rejects(loadKek({ kek: undefined, kekFile: undefined, keysDir }, log), /^development KEK: .*keys\/kek is open to other users/)
})
