import type { FastifyReply } from 'fastify'
import type { LoginBranding } from '../../config.js'

/**
 * The CSP of a hosted page: nothing runs, styles only from our stylesheet, images from us and
 * the logo's origin, no framing. Forms may post to us and, since Chromium applies
 * `form-action` to the redirect that follows a post, go on to `formTargets` (the client's
 * redirect URI). A private-use scheme (`com.example.app:/cb`) is allowed as a scheme source.
 */
function pageCsp(branding: LoginBranding, formTargets: readonly string[] = []): string {
  const logoOrigin = branding.logoUrl?.startsWith('https:') ? ` ${new URL(branding.logoUrl).origin}` : ''
  const targets = formTargets.map(cspSource).filter((s, i, all) => all.indexOf(s) === i)
  return [
    "default-src 'none'",
    "style-src 'self'",
    `img-src 'self'${logoOrigin}`,
    `form-action 'self'${targets.map(t => ` ${t}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
}

/** A URI as a CSP source: its origin for http(s), its scheme otherwise. */
function cspSource(uri: string): string {
  const url = new URL(uri)
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol
}

/** Sends a hosted HTML page with its CSP; pages are never cached (they carry CSRF tokens). */
export function sendPage(
  reply: FastifyReply, branding: LoginBranding, status: number, body: string, formTargets: readonly string[] = [],
): FastifyReply {
  return reply.status(status)
    .header('content-security-policy', pageCsp(branding, formTargets))
    .type('text/html; charset=utf-8')
    .send(body)
}
