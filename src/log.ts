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
 * Log lines of one event-loop turn, handed to `sink` as one string. sonic-boom does per-write
 * work that grows with what it already holds (it measures its whole pending buffer in bytes on
 * every write, and converts each finished write back into a Buffer): under load, with a line or
 * two per request, that was most of the cost of logging. Lines keep their order; `flush` and
 * `flushSync` (pino's, the exit hook's) hand what is pending to the sink first.
 */
export class LineBatch {
  #pending: string[] = []
  #scheduled = false
  constructor(private readonly sink: LineSink) {}

  write(line: string): boolean {
    this.#pending.push(line)
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#drain)
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
    this.#scheduled = false
    if (this.#pending.length === 0) return
    const text = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join('')
    this.#pending = []
    this.sink.write(text)
  }
}

/**
 * The process logger. Without `destination`, lines go to stdout asynchronously (a buffered
 * sonic-boom fed one batch per event-loop turn, flushed at exit), so a request never waits on
 * its own log output.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, serializers: { req: serializeRequest } }
  return pino(options, destination ?? stdoutBatch())
}

/** stdout through a {@link LineBatch}; pino flushes the sonic-boom itself at exit, this hands it the last batch first. */
function stdoutBatch(): LineBatch {
  const batch = new LineBatch(pino.destination({ dest: 1, sync: false }))
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
