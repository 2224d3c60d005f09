// Runs `prisma generate` offline. Prisma's CLI insists on a native schema engine even for
// generate (which never runs it) and tries to download one; point it at a dummy when absent.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' }
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  const dir = join('node_modules', '.cache', 'sigil')
  const dummy = join(dir, 'schema-engine-dummy')
  if (!existsSync(dummy)) {
    mkdirSync(dir, { recursive: true })
    writeFileSync(dummy, '#!/bin/sh\nexit 1\n')
    chmodSync(dummy, 0o755)
  }
  env.PRISMA_SCHEMA_ENGINE_BINARY = join(process.cwd(), dummy)
}
execFileSync(process.execPath, ['node_modules/prisma/build/index.js', 'generate'], { stdio: 'inherit', env })
