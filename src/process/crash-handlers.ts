import type { Logger } from '../log.js'

/**
 * An uncaught exception or unhandled rejection leaves the process in an unknown state: log it
 * (fatal) and exit 1 at once, so the supervisor (systemd, Kubernetes, the cluster primary)
 * starts a clean one. No drain: nothing the process holds can be trusted any more.
 */
export function exitOnCrash(log: Logger): void {
  process.on('uncaughtException', err => {
    log.fatal({ err }, 'uncaught exception: exiting')
    process.exit(1)
  })
  process.on('unhandledRejection', reason => {
    log.fatal({ err: reason }, 'unhandled promise rejection: exiting')
    process.exit(1)
  })
}
