import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import t from 'tap'

const root = resolve(import.meta.dirname, '../..')

/** Every module specifier a TypeScript file imports or re-exports. */
function specifiers(file: string): string[] {
  const source = readFileSync(file, 'utf8')
  return [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s+'([^']+)'/g)]
    .map(m => m[1] ?? m[2] ?? m[3]!)
}

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).filter(f => f.endsWith('.ts')).map(f => join(root, dir, f))
}

for (const c of [
  // issue 15: the verifier keeps its introspection answers in Sigil's one cache (src/cache/ttl-cache.ts,
  // on lru-cache, which has no dependencies) rather than in an eviction policy of its own.
  { dir: 'src/verify', packages: ['jose'], within: ['src/verify', 'src/cache/ttl-cache.ts'] },
  { dir: 'src/fastify-plugin', packages: ['fastify', 'fastify-plugin'], within: ['src/fastify-plugin', 'src/verify'] },
]) {
  t.test(`${c.dir} imports only ${c.packages.join(', ')}, node built-ins and ${c.within.join(', ')}`, async t => {
    const files = sources(c.dir)
    t.ok(files.length > 0)
    for (const file of files) {
      for (const spec of specifiers(file)) {
        const name = `${relative(root, file)} imports ${spec}`
        if (spec.startsWith('.')) {
          const target = relative(root, resolve(dirname(file), spec))
          t.ok(c.within.some(d => target.startsWith(`${d}/`) || target === d.replace(/\.ts$/, '.js')), name)
          t.ok(existsSync(join(root, target.replace(/\.js$/, '.ts'))), `${name}: exists`)
        } else {
          t.ok(c.packages.includes(spec) || (spec.startsWith('node:') && isBuiltin(spec)), name)
        }
      }
    }
  })
}

t.test('issue 15: the one cache sigil/verify shares imports only lru-cache', async t => {
  t.same(specifiers(join(root, 'src/cache/ttl-cache.ts')), ['lru-cache'])
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
