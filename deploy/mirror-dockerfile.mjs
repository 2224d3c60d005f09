#!/usr/bin/env node
// Performs the COPY instructions of one stage of a Dockerfile on the local filesystem, so
// deploy/check.sh can build from exactly the files the image build would see (a file the
// Dockerfile forgets to COPY then breaks the check too). RUN lines are only listed: the
// check runs their equivalents itself.
//
//   node deploy/mirror-dockerfile.mjs DOCKERFILE STAGE CONTEXT_DIR OUT_DIR [STAGE=DIR ...]
//
// STAGE=DIR maps `COPY --from=STAGE` to a directory holding that stage's WORKDIR.
// Supported: WORKDIR (absolute), COPY [--from=X] [--chown/--chmod/--link] SRC... DEST with
// plain paths (no wildcards), relative DESTs resolved against WORKDIR. Paths in the image
// must lie under the stage's WORKDIR, which OUT_DIR stands for.

import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join, posix } from 'node:path'

const [dockerfile, stage, context, out, ...fromArgs] = process.argv.slice(2)
if (!dockerfile || !stage || !context || !out) {
  console.error('usage: mirror-dockerfile.mjs DOCKERFILE STAGE CONTEXT_DIR OUT_DIR [STAGE=DIR ...]')
  process.exit(2)
}
const fromDirs = Object.fromEntries(fromArgs.map(a => a.split('=', 2)))
const fail = msg => { console.error(`mirror-dockerfile: ${msg}`); process.exit(1) }

// Logical lines: join continuations, drop comments and blank lines.
const lines = readFileSync(dockerfile, 'utf8').replace(/\\\r?\n/g, ' ').split(/\r?\n/)
  .map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))

let current // name of the stage being read
let workdir = '/'
const stageWorkdirs = {} // stage name -> its first WORKDIR (what OUT_DIR / STAGE=DIR stand for)
let found = false
for (const line of lines) {
  const [instr, ...rest] = line.split(/\s+/)
  const op = instr.toUpperCase()
  if (op === 'FROM') {
    const m = line.match(/\sAS\s+(\S+)\s*$/i)
    current = m ? m[1] : undefined
    workdir = '/'
    if (current === stage) found = true
    continue
  }
  if (op === 'WORKDIR') {
    const dir = rest.join(' ')
    if (!dir.startsWith('/')) fail(`relative WORKDIR ${dir} is not supported`)
    workdir = dir
    if (current !== undefined) stageWorkdirs[current] ??= dir
    continue
  }
  if (current !== stage) continue
  const stageWorkdir = stageWorkdirs[stage]
  if (op === 'COPY') {
    if (rest[0]?.startsWith('[')) fail(`JSON-form COPY is not supported: ${line}`)
    let from
    const args = []
    for (const a of rest) {
      if (a.startsWith('--from=')) from = a.slice('--from='.length)
      else if (/^--(chown|chmod|link)(=|$)/.test(a)) continue
      else if (a.startsWith('--')) fail(`unsupported COPY flag ${a}`)
      else args.push(a)
    }
    if (args.length < 2) fail(`COPY needs a source and a destination: ${line}`)
    if (stageWorkdir === undefined) fail('COPY before WORKDIR is not supported')
    const dest = args.pop()
    const destInImage = posix.resolve(workdir, dest)
    const toLocal = (p, root, base = stageWorkdir) => {
      const rel = posix.relative(base, p)
      if (rel.startsWith('..')) fail(`${p} is outside WORKDIR ${base}`)
      return join(root, rel)
    }
    const destLocal = toLocal(destInImage, out)
    const intoDir = dest.endsWith('/') || args.length > 1
    for (const src of args) {
      if (/[*?[]/.test(src)) fail(`wildcards are not supported: ${src}`)
      let srcLocal
      if (from !== undefined) {
        if (!fromDirs[from]) fail(`COPY --from=${from}: pass ${from}=DIR`)
        if (!stageWorkdirs[from]) fail(`COPY --from=${from}: that stage has no WORKDIR`)
        srcLocal = toLocal(posix.resolve(stageWorkdirs[from], src), fromDirs[from], stageWorkdirs[from])
      } else {
        srcLocal = join(context, src)
      }
      if (!existsSync(srcLocal)) fail(`COPY source not found: ${src} (${srcLocal})`)
      const target = statSync(srcLocal).isDirectory() || !intoDir ? destLocal : join(destLocal, basename(srcLocal))
      mkdirSync(statSync(srcLocal).isDirectory() ? target : join(target, '..'), { recursive: true })
      cpSync(srcLocal, target, { recursive: true })
      console.log(`COPY ${from ? `--from=${from} ` : ''}${src} -> ${destInImage}`)
    }
  } else if (op === 'RUN') {
    console.log(`(not run here) ${line}`)
  }
}
if (!found) fail(`no stage named ${stage} in ${dockerfile}`)
