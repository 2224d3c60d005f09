/** Hosts a native app may listen on with plain http (RFC 8252 §7.3, §8.3). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

/** RFC 3986 §3.1 scheme; a private-use one must look like a reversed domain name (RFC 8252 §7.1). */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+$/

/**
 * Why `uri` cannot be registered as a redirect URI, or undefined when it can: an absolute
 * URI without fragment (RFC 6749 §3.1.2) that is `https:`, `http:` on a loopback host with
 * any port (RFC 8252 §7.3), or a private-use scheme such as `com.example.app:/cb` (RFC 8252
 * §7.1). Pure; never throws.
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > 2000) return 'must be at most 2000 characters'
  if (/[\s\p{Cc}]/u.test(uri)) return 'must not contain whitespace or control characters'
  if (!URL.canParse(uri)) return 'must be an absolute URI'
  if (uri.includes('#')) return 'must not contain a fragment (RFC 6749 §3.1.2)'
  const url = new URL(uri)
  const scheme = url.protocol.slice(0, -1)
  if (scheme === 'https') return url.host === '' ? 'must name a host' : undefined
  if (scheme === 'http') {
    return LOOPBACK_HOSTS.has(url.hostname) ? undefined
      : 'http is allowed only on a loopback host (127.0.0.1, [::1], localhost; RFC 8252 §7.3); use https'
  }
  if (['javascript', 'data', 'file', 'vbscript', 'blob', 'about', 'ftp', 'ws', 'wss'].includes(scheme)) {
    return `the ${scheme}: scheme is not allowed`
  }
  if (!PRIVATE_USE_SCHEME.test(scheme)) {
    return 'must be https, loopback http, or a private-use scheme in reversed domain form like com.example.app:/cb (RFC 8252 §7.1)'
  }
  return undefined
}
