import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FlowDeps } from '../../authorize/authorization-flow.js'
import { findLoginSession, type LiveLoginSession, type LoginSessionDeps } from '../../authorize/login-session.js'
import type { LoginBranding } from '../../config.js'
import type { Services } from '../../services.js'
import { cookieNames, readCookie, type CookieNames } from './cookies.js'
import { errorPage } from './pages.js'
import { sendPage } from './page-reply.js'

/** What the hosted pages' routes share, built once per app. */
export interface HostedContext {
  s: Services
  names: CookieNames
  branding: LoginBranding
  loginSessions: LoginSessionDeps
  flow: FlowDeps
}

/** The hosted pages' share of the services. */
export function hostedContext(s: Services): HostedContext {
  return {
    s,
    names: cookieNames(s.config.issuer),
    branding: s.config.loginBranding,
    loginSessions: s.logins,
    flow: { store: s.store, clock: s.clock, log: s.logins.log, config: s.config },
  }
}

/** The browser's live login session, from its SSO cookie; null when there is none. */
export function currentLoginSession(ctx: HostedContext, req: FastifyRequest): Promise<LiveLoginSession | null> {
  return findLoginSession(ctx.loginSessions, readCookie(req, ctx.names.session))
}

/** Sigil's own error page (never a redirect). */
export function sendErrorPage(ctx: HostedContext, reply: FastifyReply, status: number, title: string, message: string): FastifyReply {
  return sendPage(reply, ctx.branding, status, errorPage(ctx.branding, { title, message }))
}
