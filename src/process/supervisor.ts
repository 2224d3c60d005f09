import { systemClock } from '../clock.js'
import type { Config } from '../config.js'
import type { Logger } from '../log.js'
import { createServices } from '../services.js'
import { drainThenExit, onStopSignal } from './shutdown.js'
import { WorkerPool } from './worker-pool.js'

/** The primary waits this much longer than a worker's own SHUTDOWN_TIMEOUT before killing it. */
const KILL_MARGIN_SEC = 5

/**
 * The primary of `sigil serve --workers N` (node:cluster; the workers share the listening
 * socket). First does once what a first start does (migrations with `migrate`, the KEK file,
 * the first signing keys, the admin client) so that N workers do not race to make them; then
 * starts N workers and, if one fails to start, stops them all and exits 1. Afterwards:
 * - a worker that dies unexpectedly is replaced after a back-off (WorkerPool);
 * - SIGTERM/SIGINT: every worker drains (SIGTERM); exit 0 when all drained in time, else 1;
 * - SIGHUP: rolling reload: for each worker, a new one is started and listening before the old
 *   one drains, so no request is refused. New code on disk is picked up; the environment is not.
 */
export async function runPrimary(config: Config, opts: { workers: number; migrate: boolean }, log: Logger): Promise<void> {
  const pool = new WorkerPool(log)
  // Signals are handled from the first moment: a SIGTERM while workers still start drains too.
  onStopSignal(signal => {
    log.info({ signal }, 'draining every worker')
    const onTimeout = () => {
      log.error('workers did not drain within SHUTDOWN_TIMEOUT: killing them')
      pool.kill()
    }
    return drainThenExit((config.shutdownTimeoutSec + KILL_MARGIN_SEC) * 1000, onTimeout, async () => {
      const codes = await pool.stop()
      const clean = codes.every(c => c === 0)
      log.info({ exit_codes: codes }, clean ? 'every worker drained' : 'a worker did not drain in time')
      return clean
    })
  })
  process.on('SIGHUP', () => void pool.reload())

  await prepareFirstStart(config, opts.migrate, log)
  if (pool.isStopping) return
  try {
    await pool.start(opts.workers)
  } catch (err) {
    if (pool.isStopping) return
    log.fatal({ err }, 'a worker failed to start: stopping')
    await pool.stop()
    process.exit(1)
  }
  if (!pool.isStopping) log.info({ workers: opts.workers, pids: pool.pids() }, 'workers listening')
}

/** Runs a first start once in the primary (migrations, KEK file, first keys, admin client), then closes it. */
async function prepareFirstStart(config: Config, migrate: boolean, log: Logger): Promise<void> {
  const first = await createServices(config, { clock: systemClock, log, migrate })
  try {
    await first.start()
  } finally {
    await first.close()
  }
}
