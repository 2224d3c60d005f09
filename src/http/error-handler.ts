import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyInstance } from 'fastify'
import {
  InsufficientScope, InvalidClient, InvalidToken, MethodNotAllowed, MissingToken, NotFound, OAuthError, TooManyRequests,
  UnreadableRequest,
} from '../errors.js'
import { trackRouteMethods } from './route-methods.js'

/**
 * The one place error bodies are written: `{error, error_description}`. OAuth errors keep
 * their code and status; Fastify's own client errors (malformed JSON or form, body too large,
 * unsupported media type) become `invalid_request` with Fastify's status; anything else is a
 * 500 `server_error` whose cause goes only to the log. An unknown path is 404 `not_found`; a
 * known path with another method is 405 `method_not_allowed` with `Allow`. Every 401 carries
 * a challenge (RFC 9110 §15.5.2). Call before registering routes (405 needs to see them).
 * `translate` turns a dependency's own errors into OAuth errors (a database that cannot be
 * reached into a 503 `temporarily_unavailable`); what it leaves undefined is a 500.
 */
export function installErrorHandler(app: FastifyInstance, realm: string, translate: (err: unknown) => OAuthError | undefined = () => undefined): void {
  const allowedMethods = trackRouteMethods(app)
  app.setErrorHandler((thrown: FastifyError | OAuthError, req, reply) => {
    const err = thrown instanceof OAuthError ? thrown : translate(thrown) ?? thrown
    if (err instanceof OAuthError) {
      if (err instanceof InvalidClient) reply.header('www-authenticate', `Basic realm="${realm}"`)
      // RFC 6750 §3.1: no error code when the request carried no token at all.
      if (err instanceof MissingToken) reply.header('www-authenticate', `Bearer realm="${realm}"`)
      if (err instanceof InvalidToken) reply.header('www-authenticate', `Bearer realm="${realm}", error="invalid_token"`)
      if (err instanceof MethodNotAllowed) reply.header('allow', err.allow.join(', '))
      if (err instanceof InsufficientScope) {
        reply.header('www-authenticate', `Bearer realm="${realm}", error="insufficient_scope", scope="${err.scope}"`)
      }
      if (err instanceof TooManyRequests) reply.header('retry-after', String(err.retryAfterSec))
      req.log.info({ error: err.error, detail: err.detail }, 'request refused')
      return reply.status(err.statusCode).send({ error: err.error, error_description: err.description })
    }
    const status = err.statusCode ?? 500
    if (status >= 400 && status < 500) {
      req.log.info({ code: err.code, status }, 'malformed request')
      return reply.status(status).send({ error: 'invalid_request', error_description: clientMessage(err) })
    }
    req.log.error({ err }, 'request failed')
    return reply.status(500).send({ error: 'server_error', error_description: 'the server could not handle the request' })
  })
  app.setNotFoundHandler(async req => {
    const path = req.url.split('?')[0]!
    const allow = allowedMethods(path)
    throw allow.length > 0 ? new MethodNotAllowed(allow) : new NotFound(`no route ${req.method} ${path}`)
  })
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before any route (headers over
 * the size limit: 431, a request that timed out: 408, anything unparsable: 400) is answered in
 * the same `{error, error_description}` shape, then the connection is closed (not left half-open).
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const refusal = err.code === 'HPE_HEADER_OVERFLOW' ? new UnreadableRequest(431, 'request header fields are too large')
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? new UnreadableRequest(408, 'the request was not received in time')
      : new UnreadableRequest(400, 'malformed HTTP request')
  const body = JSON.stringify({ error: refusal.error, error_description: refusal.description })
  if (!socket.writable) return void socket.destroy()
  socket.end([
    `HTTP/1.1 ${refusal.statusCode} ${STATUS_CODES[refusal.statusCode]}`, 'Connection: close', 'Cache-Control: no-store',
    'Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, '', body,
  ].join('\r\n'), () => socket.destroy())
}

function clientMessage(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return 'request body is too large'
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return 'unsupported content type'
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return 'empty JSON body'
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return 'malformed JSON body'
    default: return err.validation ? `invalid request: ${err.message}` : 'malformed request'
  }
}
