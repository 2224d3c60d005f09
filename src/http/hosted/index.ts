import type { FastifyError, FastifyPluginAsync } from 'fastify'
import { OAuthError, TooManyRequests } from '../../errors.js'
import type { Services } from '../../services.js'
import { noStore } from '../no-store.js'
import { authorizeRoutes } from './authorize.js'
import { hostedContext, sendErrorPage } from './context.js'
import { logoutRoutes } from './logout.js'
import { STYLESHEET_PATH, stylesheet } from './pages.js'

/** Words for the error page, by status. */
const TITLES: Record<number, string> = { 400: 'Request not valid', 403: 'Request refused', 429: 'Too many attempts', 503: 'Try again soon' }

/**
 * The hosted HTML surface: /oauth2/authorize with its login and consent forms, /oauth2/logout,
 * and the one stylesheet. Pages get their own CSP (see page-reply.ts) and are never cached;
 * every error here is an HTML page, not JSON.
 */
export const hostedRoutes = (s: Services): FastifyPluginAsync => async app => {
  const ctx = hostedContext(s)
  const css = stylesheet(ctx.branding)
  app.get(STYLESHEET_PATH, async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=300').type('text/css; charset=utf-8').send(css))

  await app.register(async pages => {
    noStore(pages)
    pages.setErrorHandler((err: FastifyError | OAuthError, req, reply) => {
      if (err instanceof OAuthError && err.statusCode < 500) {
        req.log.info({ error: err.error, detail: err.detail }, 'request refused')
        if (err instanceof TooManyRequests) reply.header('retry-after', String(err.retryAfterSec))
        return sendErrorPage(ctx, reply, err.statusCode, TITLES[err.statusCode] ?? 'Request not valid', capitalize(err.description))
      }
      if (err instanceof OAuthError && err.statusCode === 503) {
        req.log.warn({ error: err.error, detail: err.detail }, 'dependency unavailable')
        return sendErrorPage(ctx, reply, 503, TITLES[503]!, 'The service is briefly unavailable. Please try again in a moment.')
      }
      const status = (err as FastifyError).statusCode ?? 500
      if (status >= 400 && status < 500) return sendErrorPage(ctx, reply, status, TITLES[400]!, 'The request was malformed.')
      req.log.error({ err }, 'request failed')
      return sendErrorPage(ctx, reply, 500, 'Something went wrong', 'Sigil could not handle the request.')
    })
    await pages.register(authorizeRoutes(ctx))
    await pages.register(logoutRoutes(ctx))
  })
}

/** A sentence for the page; a leading parameter name (`redirect_uri …`) keeps its spelling. */
const capitalize = (s: string) => (/^\S*_/.test(s) ? s : s.charAt(0).toUpperCase() + s.slice(1)) + (s.endsWith('.') ? '' : '.')
