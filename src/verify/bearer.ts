import { InsufficientScope, MalformedRequest, TokenMissing, type VerifyError } from './errors.js'

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/**
 * RFC 6750 §2.1: the token of an `Authorization: Bearer …` header. Throws {@link TokenMissing}
 * when there is no header or it uses another scheme (§3.1: no error code then), and
 * {@link MalformedRequest} for a Bearer header that does not hold exactly one token.
 */
export function extractBearerToken(authorization: string | undefined): string {
  if (authorization === undefined || !/^bearer(\s|$)/i.test(authorization.trimStart())) throw new TokenMissing('no bearer credentials')
  const match = BEARER.exec(authorization.trim())
  if (!match) throw new MalformedRequest('Authorization: Bearer does not hold one token68 value')
  return match[1]!
}

/**
 * The RFC 6750 §3 `WWW-Authenticate` value for an error, or undefined when none belongs on the
 * answer (IssuerUnavailable: a 503 is not an authentication challenge).
 * @param realm a realm without `"` or `\`.
 */
export function bearerChallenge(err: VerifyError, realm: string): string | undefined {
  if (err.status === 503) return undefined
  const attrs = [`realm="${realm}"`]
  if (err.bearerError !== undefined) {
    attrs.push(`error="${err.bearerError}"`, `error_description="${quotable(err.description)}"`)
  }
  if (err instanceof InsufficientScope) attrs.push(`scope="${err.requiredScopes.join(' ')}"`)
  return `Bearer ${attrs.join(', ')}`
}

/** RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '')
}
