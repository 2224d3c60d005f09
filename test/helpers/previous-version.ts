import { execFile } from 'node:child_process'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** This tree's sources as they were just before `migration` was added, runnable from `cli`. */
export interface PreviousVersion { commit: string; dir: string; cli: string }

/**
 * The commit before the one that added prisma/migrations/`migration`, or why it cannot be had
 * (no git, or a shallow clone without that history: the test then says so and skips; a full
 * clone, as `git clone` makes by default, always has it).
 */
export async function commitBefore(migration: string): Promise<{ commit: string } | { skip: string }> {
  const added = await run('git', ['log', '--diff-filter=A', '--format=%H', '-1', '--', `prisma/migrations/${migration}/migration.sql`], { cwd: ROOT })
    .then(r => r.stdout.trim(), () => '')
  const parent = added && await run('git', ['rev-parse', '--verify', '--quiet', `${added}^`], { cwd: ROOT }).then(r => r.stdout.trim(), () => '')
  if (parent) return { commit: parent }
  const why = `needs the git history that added ${migration}`
  return { skip: why }
}

/**
 * Writes `commit`'s src/, prisma/ and scripts/ to a temp dir, borrows this tree's node_modules
 * (the dependencies of neighbouring versions agree) and generates that version's Prisma client
 * there. Removed at teardown.
 */
export async function checkOutPrevious(t: { teardown(fn: () => unknown): void }, commit: string): Promise<PreviousVersion> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-previous-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await run('sh', ['-c', `git archive "$0" src prisma scripts package.json tsconfig.json | tar -x -C "$1"`, commit, dir], { cwd: ROOT })
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  await run(process.execPath, ['scripts/prisma-generate.mjs'], { cwd: dir })
  return { commit, dir, cli: join(dir, 'src', 'cli.ts') }
}
