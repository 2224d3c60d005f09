import type { FastifyError, FastifyInstance } from 'fastify'
import { OAuthError, TooManyRequests } from '../../errors.js'
import type { RefreshTokenState } from '../../simplejwt/token-state.js'

/**
 * An answer in Django REST framework's shape (`{detail}`, `{field: [messages]}`): what stock
 * djangorestframework-simplejwt 5.x says for the same request.
 */
export class DrfError extends Error {
  constructor(readonly statusCode: number, readonly body: Record<string, unknown>, readonly logDetail?: string) {
    super(logDetail ?? JSON.stringify(body))
  }
}

/** TokenObtainPairView's one answer for every failed login (no enumeration). */
export const noActiveAccount = (logDetail: string) =>
  new DrfError(401, { detail: 'No active account found with the given credentials' }, logDetail)

const NOT_VALID: Record<Exclude<RefreshTokenState, 'live'>, string> = {
  blacklisted: 'Token is blacklisted',
  invalid: 'Token is invalid or expired',
  wrong_type: 'Token has wrong type',
}

/** simplejwt's InvalidToken: 401 `{detail, code: "token_not_valid"}`. */
export const tokenNotValid = (state: Exclude<RefreshTokenState, 'live'>) =>
  new DrfError(401, { detail: NOT_VALID[state], code: 'token_not_valid' })

/**
 * The error handler of the simplejwt scope: DrfErrors as they are; a malformed body as DRF's
 * ParseError; throttling as DRF's Throttled (with Retry-After); other refusals as `{detail}`;
 * anything else a 500 whose cause goes only to the log. Every 401 carries
 * `WWW-Authenticate: Bearer realm="api"`, as simplejwt's authentication header.
 */
export function installDrfErrors(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | OAuthError | DrfError, req, reply) => {
    if (err.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="api"')
    if (err instanceof DrfError) {
      req.log.info({ status: err.statusCode, detail: err.logDetail }, 'request refused')
      return reply.status(err.statusCode).send(err.body)
    }
    if (err instanceof TooManyRequests) {
      req.log.info({ detail: err.detail }, 'request throttled')
      return reply.status(429).header('retry-after', String(err.retryAfterSec))
        .send({ detail: `Request was throttled. Expected available in ${err.retryAfterSec} seconds.` })
    }
    if (err instanceof OAuthError) {
      req.log.info({ error: err.error, detail: err.detail }, 'request refused')
      return reply.status(err.statusCode).send({ detail: err.description })
    }
    const status = err.statusCode ?? 500
    if (status >= 400 && status < 500) {
      req.log.info({ code: err.code, status }, 'malformed request')
      return reply.status(status).send({ detail: drfDetail(err, req.headers['content-type']) })
    }
    req.log.error({ err }, 'request failed')
    return reply.status(500).send({ detail: 'A server error occurred.' })
  })
}

/** DRF's words for a body Fastify could not read. */
function drfDetail(err: FastifyError, contentType: string | undefined): string {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return `JSON parse error - ${err.message}`
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return `Unsupported media type "${contentType ?? ''}" in request.`
    default: return err.message
  }
}
