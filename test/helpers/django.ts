import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { freePort } from './server.js'
import { sleep } from './clock.js'

const EXAMPLE = resolve(import.meta.dirname, '../../docs/examples/drf-simplejwt')

/**
 * Runs docs/examples/drf-simplejwt unchanged (`manage.py runserver --noreload`) against a Sigil,
 * and waits for its /healthz. Killed by its pid at teardown.
 */
export async function startDjango(t: { teardown(fn: () => unknown): void }, python: string, env: Record<string, string>): Promise<string> {
  const port = await freePort()
  const child = spawn(python, ['manage.py', 'runserver', '--noreload', `127.0.0.1:${port}`], {
    cwd: EXAMPLE, env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', d => { output += d })
  child.stderr.on('data', d => { output += d })
  t.teardown(() => { if (child.exitCode === null) child.kill() })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`runserver exited ${child.exitCode}: ${output}`)
    if (Date.now() > deadline) throw new Error(`runserver not up after 60 s: ${output}`)
    if (await fetch(`${url}/healthz`).then(r => r.ok, () => false)) return url
    await sleep(100)
  }
}
