import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { randomBytes } from 'node:crypto'
import { errorResponse, nextStep, rememberConsent } from '../../authorize/authorization-flow.js'
import { parseAuthorizationRequest, resolveRedirectTarget } from '../../authorize/authorization-request.js'
import { startLoginSession, type LiveLoginSession } from '../../authorize/login-session.js'
import type { Client } from '../../clients/client.js'
import { findClient } from '../../clients/client-registry.js'
import { AccessDenied, InvalidGrant, OAuthError, TemporarilyUnavailable, TooManyRequests } from '../../errors.js'
import type { Logger } from '../../log.js'
import type { AuthorizationRequest, InteractionRecord } from '../../store/login-ports.js'
import { limitIpFailures } from '../../rate-limit/attempt-limits.js'
import { authenticateUser } from '../../users/login.js'
import { isOversizedPassword } from '../../users/user.js'
import { readParams } from '../form-body.js'
import { currentLoginSession, sendErrorPage, type HostedContext } from './context.js'
import { setCookie } from './cookies.js'
import { ensureCsrfToken, hashCsrfToken, isCsrfValid } from './csrf.js'
import { consentPage, loginPage } from './pages.js'
import { sendPage } from './page-reply.js'

/** A pending authorization request waits this long for the user to log in or consent. */
const INTERACTION_TTL_MS = 10 * 60 * 1000

const WRONG_CREDENTIALS = 'Wrong username or password.'

/**
 * GET|POST /oauth2/authorize (RFC 6749 §4.1, RFC 7636, OIDC Core §3.1) and the hosted login
 * and consent forms it leads to. Until the client and redirect URI are known, errors are shown
 * on Sigil's page; after that they go back to the client (§4.1.2.1), as does the code.
 */
export const authorizeRoutes = (ctx: HostedContext): FastifyPluginAsync => async app => {
  const { s } = ctx

  const authorize = async (req: FastifyRequest, reply: FastifyReply) => {
    const params = readParams(req.method === 'GET' ? req.query : req.body)
    const target = await resolveRedirectTarget(id => findClient(s.clients, id), params)
    return redirectingErrors(ctx, reply, { redirectUri: target.redirectUri, ...(params.state ? { state: params.state } : {}) }, async () => {
      const request = parseAuthorizationRequest(target, params)
      return proceed(ctx, req, reply, target.client, request, await currentLoginSession(ctx, req), {})
    })
  }
  app.get('/oauth2/authorize', authorize)
  app.post('/oauth2/authorize', authorize)

  app.post('/oauth2/authorize/login', async (req, reply) => {
    const params = readParams(req.body)
    const pending = await pendingInteraction(ctx, req, reply, params)
    if (!pending) return reply
    const { interactionId, interaction, client } = pending
    const showForm = (status: number, error: string) => sendPage(reply, ctx.branding, status, loginPage(ctx.branding, {
      interactionId, csrfToken: params.csrf_token!, clientId: client.clientId, error, ...(params.username ? { username: params.username } : {}),
    }), [interaction.request.redirectUri])
    const username = params.username ?? ''
    const password = params.password ?? ''
    if (username === '' || password === '') return showForm(400, 'Enter your username and password.')
    if (isOversizedPassword(password)) return showForm(400, WRONG_CREDENTIALS)
    const audit = (req.log as Logger).child({ client_id: client.clientId, ip: req.ip })
    let userId: string
    try {
      userId = (await limitIpFailures(s, req.ip, () => authenticateUser(s, { username, password }, audit))).id
    } catch (err) {
      if (err instanceof InvalidGrant) return showForm(400, WRONG_CREDENTIALS)
      if (!(err instanceof TooManyRequests)) throw err
      reply.header('retry-after', String(err.retryAfterSec))
      return showForm(429, `Too many attempts. Please wait ${waitInWords(err.retryAfterSec)} and try again.`)
    }
    const { cookieValue, session } = await startLoginSession(ctx.loginSessions, userId, await currentLoginSession(ctx, req))
    setCookie(reply, ctx.names, ctx.names.session, cookieValue, s.config.loginSessionTtlSec)
    return redirectingErrors(ctx, reply, interaction.request, () =>
      proceed(ctx, req, reply, client, interaction.request, session, { loggedIn: true, interactionId }))
  })

  app.post('/oauth2/authorize/consent', async (req, reply) => {
    const params = readParams(req.body)
    const pending = await pendingInteraction(ctx, req, reply, params)
    if (!pending) return reply
    const { interactionId, interaction, client } = pending
    const session = await currentLoginSession(ctx, req)
    if (!session || session.record.userId !== interaction.userId) {
      return sendErrorPage(ctx, reply, 400, 'Signed out', 'Your sign-in ended before you answered.')
    }
    return redirectingErrors(ctx, reply, interaction.request, async () => {
      if (params.decision !== 'allow') {
        await s.store.deleteInteraction(interactionId)
        throw new AccessDenied('the user denied consent')
      }
      await rememberConsent(ctx.flow, interaction.request, session.record.userId)
      return proceed(ctx, req, reply, client, interaction.request, session, { loggedIn: true, consented: true, interactionId })
    })
  })
}

/**
 * Runs `fn`; an OAuth error it throws goes back to the client's redirect URI (RFC 6749
 * §4.1.2.1) with `state` and `iss`. Other errors reach the pages' error handler.
 */
async function redirectingErrors(
  ctx: HostedContext, reply: FastifyReply, to: Pick<AuthorizationRequest, 'redirectUri' | 'state'>, fn: () => Promise<FastifyReply>,
): Promise<FastifyReply> {
  try {
    return await fn()
  } catch (err) {
    if (!(err instanceof OAuthError) || (err.statusCode >= 500 && !(err instanceof TemporarilyUnavailable))) throw err
    reply.log.info({ error: err.error, detail: err.detail }, 'authorization request refused')
    return reply.redirect(errorResponse(ctx.s.config.issuer, to, err), 303)
  }
}

/** Shows the login or consent form for the request, or sends the browser back with a code. */
async function proceed(
  ctx: HostedContext, req: FastifyRequest, reply: FastifyReply, client: Client, request: AuthorizationRequest,
  session: LiveLoginSession | null, opts: { loggedIn?: boolean; consented?: boolean; interactionId?: string },
): Promise<FastifyReply> {
  const next = await nextStep(ctx.flow, client, request, session, opts)
  if (next.step === 'redirect') {
    if (opts.interactionId !== undefined) await ctx.s.store.deleteInteraction(opts.interactionId)
    return reply.redirect(next.location, 303)
  }
  const csrfToken = ensureCsrfToken(req, reply, ctx.names)
  const interactionId = opts.interactionId ?? randomBytes(16).toString('base64url')
  const record: InteractionRecord = {
    request, csrfHash: hashCsrfToken(csrfToken), ...(next.step === 'consent' ? { userId: session!.record.userId } : {}),
  }
  const nowMs = ctx.s.clock.now()
  await ctx.s.store.saveInteraction(interactionId, record, nowMs, INTERACTION_TTL_MS)
  const page = next.step === 'login'
    ? loginPage(ctx.branding, { interactionId, csrfToken, clientId: client.clientId, ...(request.loginHint ? { username: request.loginHint } : {}) })
    : consentPage(ctx.branding, { interactionId, csrfToken, clientId: client.clientId, scope: request.scope })
  return sendPage(reply, ctx.branding, 200, page, [request.redirectUri])
}

/**
 * The pending request a login or consent form posts back to, after the CSRF check: the post
 * must carry the CSRF cookie the form was made for. Sends an error page and returns null
 * otherwise (never a redirect: nothing in a forged post is trusted).
 */
async function pendingInteraction(
  ctx: HostedContext, req: FastifyRequest, reply: FastifyReply, params: Record<string, string | undefined>,
): Promise<{ interactionId: string; interaction: InteractionRecord; client: Client } | null> {
  const interactionId = params.interaction ?? ''
  const interaction = /^[A-Za-z0-9_-]{22}$/.test(interactionId) ? await ctx.s.store.findInteraction(interactionId, ctx.s.clock.now()) : null
  if (!interaction) {
    sendErrorPage(ctx, reply, 400, 'Sign-in expired', 'This sign-in page has expired.')
    return null
  }
  if (!isCsrfValid(req, ctx.names, params.csrf_token, interaction.csrfHash)) {
    req.log.info({ event: 'csrf_refused', client_id: interaction.request.clientId }, 'form post without its CSRF token')
    sendErrorPage(ctx, reply, 403, 'Request refused', 'This form was not sent from the sign-in page you were shown.')
    return null
  }
  const client = await findClient(ctx.s.clients, interaction.request.clientId)
  if (!client || !client.redirectUris.includes(interaction.request.redirectUri)) {
    sendErrorPage(ctx, reply, 400, 'Application unavailable', 'The application you came from is no longer registered.')
    return null
  }
  return { interactionId, interaction, client }
}

function waitInWords(seconds: number): string {
  return seconds < 90 ? `${seconds} second${seconds === 1 ? '' : 's'}` : `${Math.ceil(seconds / 60)} minutes`
}
