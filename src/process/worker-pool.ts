import cluster, { type Worker } from 'node:cluster'
import { once } from 'node:events'
import type { Logger } from '../log.js'

/** A worker that has not listened by then is taken for dead. */
const BOOT_TIMEOUT_MS = 60_000
/** Restart back-off: 0.5 s, doubling while workers keep dying young, at most 15 s. */
const RESTART_BASE_MS = 500
const RESTART_MAX_MS = 15_000
const YOUNG_DEATH_MS = 30_000

/**
 * The cluster primary's workers (node:cluster; they share the listening socket). A worker that
 * dies unexpectedly is replaced after a back-off; {@link WorkerPool.reload} replaces every
 * worker one at a time; once {@link WorkerPool.stop} began, nothing is started or replaced.
 */
export class WorkerPool {
  /** Workers that listen, supervised (replaced when they die). */
  private readonly live = new Map<number, { worker: Worker; startedAtMs: number }>()
  /** Workers stopped on purpose by a reload: their exit is no death. */
  private readonly retiring = new Set<number>()
  private youngDeaths = 0
  private reloading = false
  private stopping = false

  constructor(private readonly log: Logger) {
    cluster.on('exit', (worker, code, signal) => {
      const entry = this.live.get(worker.id)
      this.live.delete(worker.id)
      if (this.retiring.delete(worker.id) || this.stopping || !entry) return
      const delayMs = this.scheduleReplacement(Date.now() - entry.startedAtMs < YOUNG_DEATH_MS)
      this.log.error({ worker: worker.id, pid: worker.process.pid, code, signal, restart_in_ms: delayMs }, 'worker died unexpectedly')
    })
  }

  /** True once {@link WorkerPool.stop} was called. */
  get isStopping(): boolean { return this.stopping }

  /** The pids of the workers that listen. */
  pids(): Array<number | undefined> { return [...this.live.values()].map(e => e.worker.process.pid) }

  /**
   * Starts `count` workers; each is supervised from the moment it listens, so one that dies
   * while another is still starting is replaced too. Rejects when any of them failed to start.
   */
  async start(count: number): Promise<void> {
    const started = await Promise.allSettled(Array.from({ length: count }, () => startWorker().then(w => this.add(w))))
    const failed = started.find(s => s.status === 'rejected')
    if (failed) throw failed.reason
  }

  /**
   * Rolling reload: for each worker, a new one is started and listening before the old one
   * drains, so no request is refused. Stops (the others keep serving) if a new one fails to start.
   */
  async reload(): Promise<void> {
    if (this.reloading || this.stopping) return
    this.reloading = true
    this.log.info({ workers: this.live.size }, 'SIGHUP: replacing the workers one at a time')
    try {
      for (const old of [...this.live.values()]) {
        // One that died meanwhile is being replaced already.
        if (this.stopping || !this.live.has(old.worker.id)) continue
        this.add(await startWorker())
        this.retiring.add(old.worker.id)
        this.live.delete(old.worker.id)
        await drainWorkers([old.worker])
      }
      if (!this.stopping) this.log.info({ pids: this.pids() }, 'reload done')
    } catch (err) {
      if (!this.stopping) this.log.error({ err }, 'reload stopped: a new worker did not start; the others keep serving')
    } finally {
      this.reloading = false
    }
  }

  /** Drains every worker, starting ones included; resolves with each exit code (0: drained). */
  stop(): Promise<Array<number | null>> {
    this.stopping = true
    return drainWorkers(allWorkers())
  }

  /** Kills every worker at once (a drain that overran its deadline). */
  kill(): void {
    for (const w of allWorkers()) w.process.kill('SIGKILL')
  }

  private add(worker: Worker): void {
    this.live.set(worker.id, { worker, startedAtMs: Date.now() })
  }

  private scheduleReplacement(young: boolean): number {
    this.youngDeaths = young ? this.youngDeaths + 1 : 0
    const delayMs = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** Math.max(0, this.youngDeaths - 1))
    setTimeout(() => void this.replace(), delayMs)
    return delayMs
  }

  private async replace(): Promise<void> {
    if (this.stopping) return
    try {
      const worker = await startWorker()
      this.add(worker)
      this.log.info({ worker: worker.id, pid: worker.process.pid }, 'replacement worker listening')
    } catch (err) {
      if (this.stopping) return
      this.log.error({ err }, 'a replacement worker did not start')
      this.scheduleReplacement(true)
    }
  }
}

const allWorkers = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)

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
function drainWorkers(workers: Worker[]): Promise<Array<number | null>> {
  return Promise.all(workers.map(async w => {
    if (w.isDead()) return w.process.exitCode
    const exited = once(w, 'exit') as Promise<[number | null, string | null]>
    w.process.kill('SIGTERM')
    const [code, signal] = await exited
    return code ?? (signal === 'SIGTERM' ? 0 : null)
  }))
}
