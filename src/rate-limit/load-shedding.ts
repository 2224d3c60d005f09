import type { Config } from '../config.js'
import { TemporarilyUnavailable } from '../errors.js'

/** Probes keep answering under load: shedding them would hide the overload. (The scrape is on the management listener, which sheds nothing.) */
const NEVER_SHED = new Set(['/healthz', '/readyz'])

const RETRY_AFTER_SEC = 10

/**
 * The lag is averaged over this window: one long stall (a GC, loading a large module) is not
 * overload and must not shed anything; only a loop that stays slow for seconds is.
 */
const SAMPLE_INTERVAL_MS = 5000

/**
 * Load shedding as @fastify/under-pressure options: while the event loop lags more than
 * MAX_EVENT_LOOP_DELAY_MS (mean over 5 s), requests other than the probes are refused with
 * {@link TemporarilyUnavailable} (503) and Retry-After instead of queueing until they time out.
 * Heap and RSS limits stay off: token work is CPU-bound, and the event loop shows overload first.
 */
export function loadSheddingOptions(config: Pick<Config, 'maxEventLoopDelayMs'>) {
  return {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    sampleInterval: SAMPLE_INTERVAL_MS,
    pressureHandler: async (
      req: { routeOptions: { url?: string | undefined } }, reply: { header(name: string, value: string): unknown },
      type: string, value?: number | string,
    ) => {
      if (NEVER_SHED.has(req.routeOptions.url ?? '')) return
      reply.header('retry-after', String(RETRY_AFTER_SEC))
      throw new TemporarilyUnavailable(`under pressure: ${type} ${value ?? ''}`)
    },
  }
}
