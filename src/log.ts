import { pino, type Logger } from 'pino'

/**
 * Secrets that must never reach a log line, wherever they appear in a logged object.
 * Request bodies and authorization headers are never logged whole, but this is the net below.
 */
const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', '*.authorization',
  '*.password', '*.client_secret', '*.clientSecret', '*.refresh_token', '*.access_token', '*.id_token',
  '*.token', '*.secret', '*.kek', '*.privateJwk', '*.d',
]

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' } }
  return destination ? pino(options, destination) : pino(options)
}

export type { Logger }
