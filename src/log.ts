import { pino, type Logger } from 'pino'

/**
 * Secrets that must never reach a log line, wherever they appear in a logged object.
 * Request bodies and authorization headers are never logged whole, but this is the net below.
 */
const SECRET_FIELDS = ['authorization', 'password', 'client_secret', 'clientSecret', 'refresh_token', 'access_token', 'id_token']
const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', '*.authorization',
  '*.password', '*.client_secret', '*.clientSecret', '*.refresh_token', '*.access_token', '*.id_token',
  '*.token', '*.secret', '*.kek', '*.privateJwk', '*.d',
  // The same at the top level of a log call and one level further down (`{ req: { body: { password } } }`).
  ...SECRET_FIELDS, 'token', 'secret', 'kek', ...SECRET_FIELDS.map(f => `*.*.${f}`),
]

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
    url: req.url?.replace(SECRET_QUERY, '$1[redacted]'),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, serializers: { req: serializeRequest } }
  return destination ? pino(options, destination) : pino(options)
}

export type { Logger }
