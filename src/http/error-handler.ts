import type { FastifyError, FastifyInstance } from 'fastify'
import { InsufficientScope, InvalidClient, InvalidToken, OAuthError, TooManyRequests } from '../errors.js'

/**
 * The one place error bodies are written: `{error, error_description}`. OAuth errors keep
 * their code and status; Fastify's own client errors (malformed JSON or form, body too large,
 * unsupported media type) become `invalid_request` with Fastify's status; anything else is a
 * 500 `server_error` whose cause goes only to the log.
 */
export function installErrorHandler(app: FastifyInstance, realm: string): void {
  app.setErrorHandler((err: FastifyError | OAuthError, req, reply) => {
    if (err instanceof OAuthError) {
      if (err instanceof InvalidClient && err.usedBasic) reply.header('www-authenticate', `Basic realm="${realm}"`)
      if (err instanceof InvalidToken) reply.header('www-authenticate', `Bearer realm="${realm}", error="invalid_token"`)
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
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: 'not_found', error_description: `no route ${req.method} ${req.url.split('?')[0]}` })
  })
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
