/**
 * Calls `stop` once, on the first SIGTERM or SIGINT (a second signal while stopping is
 * ignored). The single-process server and the cluster primary stop the same way.
 */
export function onStopSignal(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    void stop(signal)
  }
  process.on('SIGTERM', handle)
  process.on('SIGINT', handle)
}

/**
 * Runs `drain` under a deadline, then ends the process: exit 0 when it resolved true, 1 when
 * it resolved false or when `timeoutMs` passed first (`onTimeout` runs just before that exit).
 */
export async function drainThenExit(timeoutMs: number, onTimeout: () => void, drain: () => Promise<boolean>): Promise<never> {
  const deadline = setTimeout(() => {
    onTimeout()
    process.exit(1)
  }, timeoutMs)
  deadline.unref()
  const clean = await drain()
  clearTimeout(deadline)
  process.exit(clean ? 0 : 1)
}
