import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { endLoginSession } from '../../authorize/login-session.js'
import { verifyIdTokenHint } from '../../authorize/logout.js'
import { findClient } from '../../clients/client-registry.js'
import { readParams } from '../form-body.js'
import { sendErrorPage, type HostedContext } from './context.js'
import { readCookie, setCookie } from './cookies.js'
import { ensureCsrfToken, isCsrfValid } from './csrf.js'
import { loggedOutPage, logoutConfirmPage } from './pages.js'
import { sendPage } from './page-reply.js'

/**
 * GET|POST /oauth2/logout, the `end_session_endpoint` (OIDC RP-Initiated Logout 1.0). With a
 * valid `id_token_hint` the browser's login session and the refresh families born from it end
 * at once; without one the user confirms first (a form post with the CSRF token). The browser
 * then goes to `post_logout_redirect_uri` (with `state`) only if that URI is registered for
 * the client; otherwise it sees Sigil's own page.
 */
export const logoutRoutes = (ctx: HostedContext): FastifyPluginAsync => async app => {
  const logout = async (req: FastifyRequest, reply: FastifyReply) => {
    const params = readParams(req.method === 'GET' ? req.query : req.body)
    const target = await logoutTarget(ctx, params)
    if (typeof target === 'string') return sendErrorPage(ctx, reply, 400, 'Sign-out failed', target)
    const { hint, clientId, returnTo } = target
    const posted = req.method === 'POST' && params.csrf_token !== undefined
    if (posted && !isCsrfValid(req, ctx.names, params.csrf_token)) {
      return sendErrorPage(ctx, reply, 403, 'Request refused', 'This form was not sent from the sign-out page you were shown.')
    }
    if (!hint && !posted) {
      const csrfToken = ensureCsrfToken(req, reply, ctx.names)
      const page = logoutConfirmPage(ctx.branding, {
        csrfToken, ...(returnTo === undefined ? {} : { postLogoutRedirectUri: returnTo }),
        ...(clientId === undefined ? {} : { clientId }), ...(params.state === undefined ? {} : { state: params.state }),
      })
      return sendPage(reply, ctx.branding, 200, page, returnTo === undefined ? [] : [returnTo])
    }
    await endLoginSession(ctx.loginSessions, readCookie(req, ctx.names.session))
    setCookie(reply, ctx.names, ctx.names.session, '', 0)
    if (returnTo === undefined) return sendPage(reply, ctx.branding, 200, loggedOutPage(ctx.branding))
    const url = new URL(returnTo)
    if (params.state !== undefined) url.searchParams.append('state', params.state)
    return reply.redirect(url.toString(), 303)
  }
  app.get('/oauth2/logout', logout)
  app.post('/oauth2/logout', logout)
}

/**
 * Who asks for the logout and where the browser may go afterwards: the verified hint, the
 * client, and a return address registered for that client. A string says what is wrong.
 */
async function logoutTarget(ctx: HostedContext, params: Record<string, string | undefined>): Promise<
  { hint: { clientId: string } | null; clientId: string | undefined; returnTo: string | undefined } | string
> {
  const hint = params.id_token_hint ? await verifyIdTokenHint(ctx.s.families, params.id_token_hint) : null
  if (params.id_token_hint && !hint) return 'The sign-out request is not valid.'
  if (hint && params.client_id !== undefined && params.client_id !== hint.clientId) return 'The sign-out request names two different applications.'
  const clientId = hint?.clientId ?? params.client_id
  const returnTo = params.post_logout_redirect_uri
  if (returnTo !== undefined) {
    const client = clientId === undefined ? null : await findClient(ctx.s.clients, clientId)
    if (!client || !client.postLogoutRedirectUris.includes(returnTo)) return 'The address to return to after signing out is not registered.'
  }
  return { hint, clientId, returnTo }
}
