import { spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'

/**
 * A Python 3 interpreter that can import every one of `modules`: `$PYTHON` if set, else
 * `python3` on PATH, else the distribution's `/usr/bin/python3` (Debian's python3-* packages
 * install there, while a pyenv shim may come first on PATH). Returns the interpreter, or the
 * reason none fits.
 */
export function findPython(modules: string[]): { python: string } | { missing: string } {
  const candidates = [...new Set([process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c))]
  const tried: string[] = []
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8', timeout: 30_000 })
    if (r.status === 0) return { python }
    tried.push(`${python}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`)
  }
  return { missing: `no Python 3 with ${modules.join(', ')} (${tried.join('; ')})` }
}

/**
 * The interpreter for interop tests, as a tap `skip` option: `{ python, skip: false }`, or
 * `{ skip: reason }` outside CI. Under CI=true a missing interpreter or module throws: the
 * interop suites must fail there, never skip.
 */
export function pythonForInterop(modules: string[]): { python: string; skip: false } | { python: undefined; skip: string } {
  const found = findPython(modules)
  if ('python' in found) return { python: found.python, skip: false }
  if (process.env.CI === 'true') {
    throw new Error(`CI=true: ${found.missing}; install python3-djangorestframework-simplejwt python3-django python3-djangorestframework python3-jwt python3-cryptography python3-argon2 python3-bcrypt`)
  }
  return { python: undefined, skip: found.missing }
}

export interface LineProcess {
  /** Writes one line and resolves with the next line of output. */
  ask(line: string): Promise<string>
}

/**
 * A child process spoken to one line at a time (stdin → one stdout line), killed by its pid at
 * teardown. A line asked after the child died rejects with its stderr.
 */
export function startLineProcess(t: { teardown(fn: () => unknown): void }, command: string, args: string[]): LineProcess {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', d => { stderr += d })
  const waiting: Array<{ resolve(line: string): void; reject(err: Error): void }> = []
  createInterface({ input: child.stdout }).on('line', line => waiting.shift()?.resolve(line))
  child.on('exit', code => { for (const w of waiting.splice(0)) w.reject(new Error(`${command} exited ${code}: ${stderr}`)) })
  t.teardown(() => { if (child.exitCode === null) child.kill() })
  return {
    ask: line => new Promise((resolve, reject) => {
      if (child.exitCode !== null) return reject(new Error(`${command} exited ${child.exitCode}: ${stderr}`))
      waiting.push({ resolve, reject })
      child.stdin.write(`${line}\n`)
    }),
  }
}
