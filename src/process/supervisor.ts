import cluster, { type Worker } from 'node:cluster'
import { once } from 'node:events'
import { systemClock } from '../clock.js'
import type { Config } from '../config.js'
import type { Logger } from '../log.js'
import { createServices } from '../services.js'

/** A worker that has not listened by then is taken for dead. */
const BOOT_TIMEOUT_MS = 60_000
/** Restart back-off: 0.5 s, doubling while workers keep dying young, at most 15 s. */
const RESTART_BASE_MS = 500
const RESTART_MAX_MS = 15_000
const YOUNG_DEATH_MS = 30_000

/**
 * The primary of `sigil serve --workers N` (node:cluster; the workers share the listening
 * socket). First does once what a first start does (migrations with `migrate`, the KEK file,
 * the first signing keys, the admin client) so that N workers do not race to make them; then
 * forks N workers and, if one fails to start, stops them all and exits 1. Afterwards:
 * - a worker that dies unexpectedly is replaced after a back-off;
 * - SIGTERM/SIGINT: every worker drains (SIGTERM); exit 0 when all drained in time, else 1;
 * - SIGHUP: rolling reload: for each worker, a new one is started and listening before the old
 *   one drains, so no request is refused. New code on disk is picked up; the environment is not.
 */
export async function runPrimary(config: Config, opts: { workers: number; migrate: boolean }, log: Logger): Promise<void> {
  const live = new Map<number, { worker: Worker; startedAtMs: number }>()
  const retiring = new Set<number>()
  let shuttingDown = false
  let reloading = false
  let youngDeaths = 0

  // Signals are handled from the first moment: a SIGTERM while workers still start drains too.
  const shutdown = async (signal: string) => {
    if (shuttingDown) return
    shuttingDown = true
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
    log.info({ signal, workers: workers.length }, 'draining every worker')
    const deadline = setTimeout(() => {
      log.error('workers did not drain within SHUTDOWN_TIMEOUT: killing them')
      for (const w of workers) w.process.kill('SIGKILL')
      process.exit(1)
    }, (config.shutdownTimeoutSec + 5) * 1000)
    const codes = await stopAll(workers)
    clearTimeout(deadline)
    const clean = codes.every(c => c === 0)
    log.info({ exit_codes: codes }, clean ? 'every worker drained' : 'a worker did not drain in time')
    process.exit(clean ? 0 : 1)
  }
  const reload = async () => {
    if (reloading || shuttingDown) return
    reloading = true
    log.info({ workers: live.size }, 'SIGHUP: replacing the workers one at a time')
    try {
      for (const old of [...live.values()]) {
        // One that died meanwhile is being replaced already.
        if (shuttingDown || !live.has(old.worker.id)) continue
        add(await startWorker())
        retiring.add(old.worker.id)
        live.delete(old.worker.id)
        await stopAll([old.worker])
      }
      if (!shuttingDown) log.info({ pids: [...live.values()].map(e => e.worker.process.pid) }, 'reload done')
    } catch (err) {
      if (!shuttingDown) log.error({ err }, 'reload stopped: a new worker did not start; the others keep serving')
    } finally {
      reloading = false
    }
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGHUP', () => void reload())

  const add = (worker: Worker) => live.set(worker.id, { worker, startedAtMs: Date.now() })
  const replace = async (): Promise<void> => {
    if (shuttingDown) return
    try {
      const worker = await startWorker()
      add(worker)
      log.info({ worker: worker.id, pid: worker.process.pid }, 'replacement worker listening')
    } catch (err) {
      if (shuttingDown) return
      log.error({ err }, 'a replacement worker did not start')
      scheduleReplacement(true)
    }
  }
  const scheduleReplacement = (young: boolean) => {
    youngDeaths = young ? youngDeaths + 1 : 0
    const delayMs = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** Math.max(0, youngDeaths - 1))
    setTimeout(() => void replace(), delayMs)
    return delayMs
  }
  cluster.on('exit', (worker, code, signal) => {
    const entry = live.get(worker.id)
    live.delete(worker.id)
    if (retiring.delete(worker.id) || shuttingDown || !entry) return
    const delayMs = scheduleReplacement(Date.now() - entry.startedAtMs < YOUNG_DEATH_MS)
    log.error({ worker: worker.id, pid: worker.process.pid, code, signal, restart_in_ms: delayMs }, 'worker died unexpectedly')
  })

  const first = await createServices(config, { clock: systemClock, log, migrate: opts.migrate })
  try {
    await first.start()
  } finally {
    await first.close()
  }
  if (shuttingDown) return
  // Each worker is supervised from the moment it listens, so one that dies while another is
  // still starting is replaced too.
  const started = await Promise.allSettled(Array.from({ length: opts.workers }, () => startWorker().then(add)))
  const failed = started.find(s => s.status === 'rejected')
  if (shuttingDown) return
  if (failed) {
    log.fatal({ err: failed.reason }, 'a worker failed to start: stopping')
    shuttingDown = true
    await stopAll([...live.values()].map(e => e.worker))
    process.exit(1)
  }
  log.info({ workers: opts.workers, pids: [...live.values()].map(e => e.worker.process.pid) }, 'workers listening')
}

/** Forks a worker; resolves once it listens, rejects (killing it) if it exits or hangs first. */
function startWorker(): Promise<Worker> {
  const worker = cluster.fork()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.process.kill('SIGKILL')
      reject(new Error(`worker ${worker.process.pid} did not listen within ${BOOT_TIMEOUT_MS / 1000} s`))
    }, BOOT_TIMEOUT_MS)
    worker.once('listening', () => { clearTimeout(timer); resolve(worker) })
    worker.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`worker ${worker.process.pid} exited (${signal ?? code}) before listening`))
    })
  })
}

/**
 * Sends SIGTERM (a worker drains on it) and resolves with each exit code. A worker still
 * starting has no handler yet and dies of the signal with nothing in flight: that counts as 0.
 */
async function stopAll(workers: Worker[]): Promise<Array<number | null>> {
  return Promise.all(workers.map(async w => {
    if (w.isDead()) return w.process.exitCode
    const exited = once(w, 'exit') as Promise<[number | null, string | null]>
    w.process.kill('SIGTERM')
    const [code, signal] = await exited
    return code ?? (signal === 'SIGTERM' ? 0 : null)
  }))
}
