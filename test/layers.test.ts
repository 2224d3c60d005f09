import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import t from 'tap'

// issue 15: the layers hold, and this test fails when an import crosses one. The rules:
// - src/http/ imports no adapter: nothing under src/db/, src/store/redis/ or src/store/memory/
//   (routes reach storage only through domain functions and the ports they take).
// - src/db/ implements repository interfaces that live beside the domain using them: from a
//   domain module it imports only `import type` from a `*-repository.ts` file.
// - domain modules import neither src/http/ nor the adapters (src/db/, src/store/redis/,
//   src/store/memory/), nor fastify, @fastify/*, fastify-plugin or ioredis.
// - src/verify/ (sigil/verify) imports only jose and Sigil's one cache (src/cache/ttl-cache.ts, which
//   imports only lru-cache); src/fastify-plugin/ only fastify and src/verify/.

const root = resolve(import.meta.dirname, '..')

interface Import { spec: string; typeOnly: boolean }

/** Every module a TypeScript file imports or re-exports, and whether only its types. */
function imports(file: string): Import[] {
  const source = readFileSync(file, 'utf8')
  return [...source.matchAll(/(?:^|\n)\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s+'([^']+)'/g)]
    .map(m => ({ spec: m[3] ?? m[4] ?? m[5]!, typeOnly: m[2] !== undefined }))
}

/** The .ts files under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter(f => f.endsWith('.ts')).map(f => join(root, dir, f))
}

/** A relative import as a path from the repository root (`src/db/user-repo.ts`); a package as itself. */
function target(file: string, spec: string): string {
  return spec.startsWith('.') ? relative(root, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : spec
}

const under = (dirs: readonly string[]) => (path: string) => dirs.some(d => path.startsWith(`${d}/`) || path === d)
const DOMAIN = ['clients', 'users', 'grants', 'refresh', 'revocation', 'introspection', 'keys', 'tokens', 'authorize', 'rate-limit']
  .map(d => `src/${d}`)
const ADAPTERS = ['src/db', 'src/store/redis', 'src/store/memory']
const FASTIFY_OR_IOREDIS = (spec: string) => /^(fastify|fastify-plugin|@fastify\/.*|ioredis)$/.test(spec)

/** Every import a file of `dirs` makes that `forbidden` refuses, as "file imports spec". */
function violations(dirs: readonly string[], forbidden: (to: string, i: Import) => boolean): string[] {
  return dirs.flatMap(dir => sources(dir).flatMap(file => imports(file)
    .filter(i => forbidden(target(file, i.spec), i))
    .map(i => `${relative(root, file)} imports ${i.spec}${i.typeOnly ? ' (types)' : ''}`)))
}

t.test('issue 15: src/http/ imports no store or database adapter', async t => {
  t.same(violations(['src/http'], to => under(ADAPTERS)(to)), [])
})

t.test('issue 15: src/db/ imports from the domain only the types of *-repository.ts files', async t => {
  t.same(violations(['src/db'], (to, i) => under(DOMAIN)(to) && !(i.typeOnly && to.endsWith('-repository.ts'))), [])
})

t.test('issue 15: domain modules import no HTTP layer, adapter, fastify or ioredis', async t => {
  t.same(violations(DOMAIN, to => under(['src/http', ...ADAPTERS])(to) || FASTIFY_OR_IOREDIS(to)), [])
})

t.test('every relative import of src/ names a file that exists', async t => {
  t.same(violations(['src'], to => to.startsWith('src/') && !existsSync(join(root, to))), [])
})

for (const c of [
  // The verifier keeps its introspection answers in Sigil's one cache rather than in an eviction
  // policy of its own (issue 15).
  { dir: 'src/verify', packages: ['jose'], within: ['src/verify', 'src/cache/ttl-cache.ts'] },
  { dir: 'src/fastify-plugin', packages: ['fastify', 'fastify-plugin'], within: ['src/fastify-plugin', 'src/verify'] },
]) {
  t.test(`${c.dir} imports only ${c.packages.join(', ')}, node built-ins and ${c.within.join(', ')}`, async t => {
    t.ok(sources(c.dir).length > 0)
    const allowed = (to: string) => to.startsWith('src/')
      ? under(c.within)(to)
      : c.packages.includes(to) || (to.startsWith('node:') && isBuiltin(to))
    t.same(violations([c.dir], to => !allowed(to)), [])
  })
}

t.test('issue 15: the one cache sigil/verify shares imports only lru-cache', async t => {
  t.same(imports(join(root, 'src/cache/ttl-cache.ts')).map(i => i.spec), ['lru-cache'])
})

t.test('package.json exports sigil/verify and sigil/fastify from what the build emits', async t => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string>; dependencies: Record<string, string> }
  t.equal(pkg.exports['.'], './dist/app.js', 'the main entry is kept')
  for (const [subpath, source] of [['./verify', 'src/verify/index.ts'], ['./fastify', 'src/fastify-plugin/index.ts']] as const) {
    const target = pkg.exports[subpath]
    t.equal(target?.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'), source, `${subpath} → ${target}`)
  }
  for (const dep of ['jose', 'lru-cache', 'fastify', 'fastify-plugin']) t.ok(pkg.dependencies[dep], `${dep} is a runtime dependency`)
})
