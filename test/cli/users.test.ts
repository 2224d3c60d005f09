import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { createUserRepo } from '../../src/db/user-repo.js'
import { createPasswordHasher } from '../../src/users/password.js'
import { runSigil } from '../helpers/cli.js'
import { TEST_KEK } from '../helpers/config.js'

const PASSWORD = 'Cli-made-password-6e1f'

/** `sigil users …` on the embedded defaults in `cwd`; `input` is stdin. */
const sigil = (cwd: string, args: string[], opts: { password?: string; input?: string } = {}) =>
  runSigil(cwd, ['users', ...args], { env: { SIGIL_KEK: TEST_KEK, SIGIL_USER_PASSWORD: opts.password ?? '' }, ...(opts.input === undefined ? {} : { input: opts.input }) })

t.test('sigil users create / delete', async t => {
  const cwd = mkdtempSync(join(tmpdir(), 'sigil-users-cli-'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))

  const alice = sigil(cwd, ['create', '--username', 'Alice', '--email', 'alice@example.com', '--claims', '{"tenant":"acme"}'], { password: PASSWORD })
  t.equal(alice.status, 0, alice.stderr)
  t.match(alice.json(), { id: /^[0-9a-f-]{36}$/, username: 'Alice' })
  const bob = sigil(cwd, ['create', '--username', 'bob'], { input: `${PASSWORD}\n` })
  t.equal(bob.status, 0, bob.stderr)

  for (const [name, args, opts, pattern] of [
    ['a taken username, in another case', ['create', '--username', 'ALICE'], { password: PASSWORD }, /^sigil: conflict: /],
    ['a short password', ['create', '--username', 'carol'], { password: 'short' }, /^sigil: invalid_request: password: /],
    ['no password at all', ['create', '--username', 'carol'], {}, /^sigil: invalid_request: password: /],
    ['--claims that is not JSON', ['create', '--username', 'carol', '--claims', '{nope'], { password: PASSWORD }, /--claims.*must be JSON/],
    ['no --username', ['create'], { password: PASSWORD }, /--username/],
  ] as const) {
    const r = sigil(cwd, [...args], opts)
    t.equal(r.status, 1, name)
    t.match(r.stderr, pattern, name)
  }

  const db = await openDatabase({ dataDir: join(cwd, 'data') })
  try {
    const repo = createUserRepo(db.prisma)
    const hasher = await createPasswordHasher()
    const stored = await repo.findByUsername('bob')
    t.equal(await hasher.verify(stored!.passwordHash, PASSWORD), true, 'stdin minus its trailing newline is the password')
    t.match(await repo.find(alice.json().id), { email: 'alice@example.com', claims: { tenant: 'acme' } })
  } finally {
    await db.close()
  }

  t.equal(sigil(cwd, ['delete', alice.json().id]).status, 0)
  const again = sigil(cwd, ['delete', alice.json().id])
  t.equal(again.status, 1)
  t.match(again.stderr, /^sigil: not_found: /)
})
