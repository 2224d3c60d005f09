import cluster from 'node:cluster'
import { buildApp, buildManagementApp } from './app.js'
import { systemClock } from './clock.js'
import { ConfigError, type Config } from './config.js'
import { createLogger } from './log.js'
import { exitOnCrash } from './process/crash-handlers.js'
import { trackInFlight } from './process/http-drain.js'
import { drainThenExit, onStopSignal } from './process/shutdown.js'
import { runPrimary } from './process/supervisor.js'
import { resolveWorkerCount, type WorkersOption } from './process/worker-count.js'
import { createServices } from './services.js'

/**
 * Runs the service: one process, or with `workers` above 1 a cluster primary and its workers
 * (see runPrimary). More than one worker on the embedded defaults ends the process with one
 * line and exit code 2.
 */
export async function serve(config: Config, opts: { migrate?: boolean; workers?: WorkersOption } = {}): Promise<void> {
  if (cluster.isPrimary) {
    const workers = workerCountOrExit(config, opts.workers ?? 1)
    if (workers > 1) {
      const log = createLogger(config.logLevel).child({ role: 'primary' })
      exitOnCrash(log)
      return runPrimary(config, { workers, migrate: opts.migrate === true }, log)
    }
  }
  // A worker never migrates: its primary did before forking it.
  return runInstance(config, { migrate: cluster.isPrimary && opts.migrate === true })
}

function workerCountOrExit(config: Config, option: WorkersOption): number {
  try {
    return resolveWorkerCount(option, config)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`sigil: ${err.message}\n`)
    process.exit(2)
  }
}

/**
 * Serves the public app on HOST:PORT and /metrics (with the probes) on
 * MANAGEMENT_HOST:MANAGEMENT_PORT until SIGTERM/SIGINT, then drains: /readyz answers 503 at once, no new connections
 * are accepted, in-flight requests (and requests on open keep-alive connections, answered with
 * `Connection: close`) finish, then the store and the database are closed and the process exits
 * 0 — or 1 when that took longer than SHUTDOWN_TIMEOUT.
 */
async function runInstance(config: Config, opts: { migrate: boolean }): Promise<void> {
  const root = createLogger(config.logLevel)
  const log = cluster.worker ? root.child({ worker: cluster.worker.id }) : root
  exitOnCrash(log)
  if (!config.redisUrl) log.warn('REDIS_URL is not set: using the in-process store; run a single instance only')
  if (!config.databaseUrl) log.info({ dataDir: config.dataDir }, 'DATABASE_URL is not set: using embedded PostgreSQL (PGlite)')
  const services = await createServices(config, { clock: systemClock, log, migrate: opts.migrate })
  await services.start()
  const app = await buildApp(services)
  const management = await buildManagementApp(services)
  const inFlight = trackInFlight(app.server)
  // Public first: a worker counts as started (supervisor.ts) when its first listener is up.
  // With --workers, node:cluster shares the management port among the workers like the public one.
  await app.listen({ host: config.host, port: config.port })
  await management.listen({ host: config.managementHost, port: config.managementPort }).catch((err: Error) => {
    throw new Error(`MANAGEMENT_PORT: cannot listen on ${config.managementHost}:${config.managementPort}: ${err.message}`)
  })

  onStopSignal(signal => {
    services.lifecycle.draining = true
    log.info({ signal, in_flight: inFlight.count() }, 'draining: /readyz answers 503, no new connections')
    const onTimeout = () => log.error({ in_flight: inFlight.count() }, 'in-flight requests did not finish within SHUTDOWN_TIMEOUT; exiting')
    return drainThenExit(config.shutdownTimeoutSec * 1000, onTimeout, async () => {
      await inFlight.drain()
      await app.close()
      await management.close()
      await services.close()
      log.info('drained; exiting')
      return true
    })
  })
  // A worker reloads only when its primary replaces it; a hangup of the terminal is not for it.
  if (cluster.isWorker) process.on('SIGHUP', () => {})
}
