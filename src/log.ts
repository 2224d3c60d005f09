import { pino, type Logger } from 'pino'

/**
 * Secrets that must never reach a log line. Sigil logs explicit fields only (event, ids, kids,
 * outcomes), never bodies or headers; these explicit paths are the net below that, at the top
 * level of a log call. No wildcard paths (a wildcard scans every logged object), and none
 * under `req` or `res`: those are serialized to fixed fields (serializeRequest below; Fastify's
 * `res` serializer keeps only statusCode), so no header or body can reach a line through them,
 * and the access line of every request is not redacted for nothing.
 */
const SECRET_FIELDS = [
  'authorization', 'cookie', 'password', 'client_secret', 'clientSecret', 'refresh_token', 'access_token', 'id_token',
  'code_verifier', 'token', 'secret', 'kek', 'privateJwk',
]
const REDACT = SECRET_FIELDS

/**
 * Query parameters that may carry a credential (RFC 6750 §2.3 allows `access_token` in the
 * query; RP-initiated logout sends `id_token_hint` there).
 */
const SECRET_QUERY = /([?&](?:access_token|refresh_token|id_token|id_token_hint|token|client_secret|password|code|code_verifier|csrf_token|client_assertion)=)[^&#]*/gi

/**
 * Fastify's request serializer (app.ts: method, url, host, client address), with the values of
 * secret-bearing query parameters cut from the URL: Fastify logs every request's URL.
 */
function serializeRequest(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return {
    method: req.method,
    // Most URLs have no query: no regex run for them.
    url: req.url?.includes('?') ? req.url.replace(SECRET_QUERY, '$1[redacted]') : req.url,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }
}

/** The part of a sonic-boom (pino.destination) that {@link LineBatch} writes through. */
interface LineSink {
  write(chunk: string): boolean
  flush(cb?: (err?: Error) => void): void
  flushSync(): void
}

/**
 * How long a log line may wait for others before it is written, and how much is written at
 * once at most (in UTF-16 units, about bytes for log lines). An asynchronous file write costs
 * about 15-20 µs of CPU whatever its size (a thread-pool round trip, on the same core as the
 * server when it is pinned to one): one write per 16 KiB or per 50 ms instead of one per line or
 * per event-loop turn. A line is seen in the output at most 50 ms late; at exit nothing is lost.
 */
const BATCH_MAX_DELAY_MS = 50
const BATCH_MAX_CHARS = 16 * 1024

/**
 * Log lines handed to `sink` (a sonic-boom) in batches: once `maxChars` are pending, or
 * `maxDelayMs` after the first pending line. sonic-boom's own per-write work grows with what it
 * holds (it measures its whole pending string on every write) and each of its writes is an
 * asynchronous file write: under load, with a line or two per request, that was most of the cost
 * of logging. Lines keep their order; `flush` and `flushSync` (pino's, the exit hook's) hand
 * what is pending to the sink first.
 */
export class LineBatch {
  #pending: string[] = []
  #chars = 0
  #timer: NodeJS.Timeout | undefined
  constructor(
    private readonly sink: LineSink,
    private readonly opts: { maxDelayMs: number; maxChars: number } = { maxDelayMs: BATCH_MAX_DELAY_MS, maxChars: BATCH_MAX_CHARS },
  ) {}

  write(line: string): boolean {
    this.#pending.push(line)
    this.#chars += line.length
    if (this.#chars >= this.opts.maxChars) this.#drain()
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#drain, this.opts.maxDelayMs)
      // Never what keeps the process alive: the exit hook writes what is left.
      this.#timer.unref()
    }
    return true
  }

  flush(cb?: (err?: Error) => void): void {
    this.#drain()
    this.sink.flush(cb)
  }

  flushSync(): void {
    this.#drain()
    this.sink.flushSync()
  }

  readonly #drain = () => {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#pending.length === 0) return
    const text = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join('')
    this.#pending = []
    this.#chars = 0
    this.sink.write(text)
  }
}

/**
 * The process logger. Without `destination`, lines go to stdout asynchronously (a buffered
 * sonic-boom fed in batches, flushed at exit), so a request never waits on
 * its own log output.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, serializers: { req: serializeRequest } }
  return pino(options, destination ?? stdoutBatch())
}

let stdout: LineBatch | undefined

/**
 * stdout through a {@link LineBatch}, one per process (every logger shares it, so lines keep
 * their order and one exit hook serves all); pino flushes the sonic-boom itself at exit, this
 * hands it the last batch first.
 */
function stdoutBatch(): LineBatch {
  if (stdout) return stdout
  const batch = (stdout = new LineBatch(pino.destination({ dest: 1, sync: false })))
  // Registered after pino's own hook: flushSync of the sonic-boom again, with this batch in it.
  process.once('exit', () => {
    try {
      batch.flushSync()
    } catch {
      // stdout already closed: nothing left to write to.
    }
  })
  return batch
}

export type { Logger }
