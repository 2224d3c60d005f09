import { buildApp } from './app.js'
import { systemClock } from './clock.js'
import type { Config } from './config.js'
import { createLogger } from './log.js'
import { createServices } from './services.js'

/**
 * Runs the service until SIGTERM/SIGINT: then stops accepting, lets in-flight requests
 * finish within SHUTDOWN_TIMEOUT, closes the store and the database, and exits 0.
 */
export async function serve(config: Config, opts: { migrate?: boolean } = {}): Promise<void> {
  const log = createLogger(config.logLevel)
  if (!config.redisUrl) log.warn('REDIS_URL is not set: using the in-process store; run a single instance only')
  if (!config.databaseUrl) log.info({ dataDir: config.dataDir }, 'DATABASE_URL is not set: using embedded PostgreSQL (PGlite)')
  const services = await createServices(config, { clock: systemClock, log, migrate: opts.migrate })
  await services.start()
  const app = await buildApp(services)
  await app.listen({ host: config.host, port: config.port })

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    const deadline = setTimeout(() => {
      log.error('in-flight requests did not finish within SHUTDOWN_TIMEOUT; exiting')
      process.exit(1)
    }, config.shutdownTimeoutSec * 1000)
    deadline.unref()
    await app.close()
    await services.close()
    clearTimeout(deadline)
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}
