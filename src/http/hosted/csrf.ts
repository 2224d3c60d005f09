import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { readCookie, setCookie, type CookieNames } from './cookies.js'

const TOKEN = /^[A-Za-z0-9_-]{43}$/

export const hashCsrfToken = (token: string) => createHash('sha256').update(token).digest('base64url')

/**
 * The browser's CSRF token (double-submit): the value of its CSRF cookie, made and set now
 * when it has none. Forms carry it in `csrf_token`; a cross-site page can neither read the
 * cookie nor, with `__Host-` on https, plant one.
 */
export function ensureCsrfToken(req: FastifyRequest, reply: FastifyReply, names: CookieNames): string {
  const held = readCookie(req, names.csrf)
  if (held !== undefined && TOKEN.test(held)) return held
  const token = randomBytes(32).toString('base64url')
  setCookie(reply, names, names.csrf, token)
  return token
}

/**
 * True when the posted `csrf_token` equals the browser's CSRF cookie and, when `expectedHash`
 * is given, that cookie is the one the form was made for. Constant time.
 */
export function isCsrfValid(req: FastifyRequest, names: CookieNames, posted: string | undefined, expectedHash?: string): boolean {
  const cookie = readCookie(req, names.csrf)
  if (cookie === undefined || posted === undefined || !TOKEN.test(cookie) || posted.length !== cookie.length) return false
  if (!timingSafeEqual(Buffer.from(cookie), Buffer.from(posted))) return false
  return expectedHash === undefined || hashCsrfToken(cookie) === expectedHash
}
