import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * The hosted pages' cookies. With an https issuer they carry the `__Host-` prefix (Secure,
 * Path=/, no Domain: no sibling host can set or read them); every one is HttpOnly and
 * SameSite=Lax, so a cross-site form post never carries them but a top-level navigation from
 * the client app does.
 */
export interface CookieNames { session: string; csrf: string; secure: boolean }

/** The cookie names for an issuer: `__Host-` prefixed and Secure when it is https. Pure. */
export function cookieNames(issuer: string): CookieNames {
  const secure = issuer.startsWith('https:')
  const prefix = secure ? '__Host-' : ''
  return { session: `${prefix}sigil_session`, csrf: `${prefix}sigil_csrf`, secure }
}

/** The value of cookie `name` in the request, or undefined. A malformed header yields undefined. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie
  if (typeof header !== 'string') return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** Adds a Set-Cookie for `name` (values are base64url, so need no encoding); maxAgeSec 0 deletes it. */
export function setCookie(reply: FastifyReply, names: CookieNames, name: string, value: string, maxAgeSec?: number): void {
  const attrs = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax']
  if (names.secure) attrs.push('Secure')
  if (maxAgeSec !== undefined) attrs.push(`Max-Age=${maxAgeSec}`)
  const prior = reply.getHeader('set-cookie')
  const list = prior === undefined ? [] : Array.isArray(prior) ? prior : [String(prior)]
  reply.header('set-cookie', [...list, attrs.join('; ')])
}
