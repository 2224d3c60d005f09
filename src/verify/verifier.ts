import { decodeProtectedHeader, errors, jwtVerify, type CryptoKey, type JWTPayload } from 'jose'
import { IssuerDiscovery } from './discovery.js'
import {
  AlgorithmNotAllowed, BadSignature, InsufficientScope, IssuerUnavailable, MalformedToken, MissingClaim, TokenExpired,
  TokenNotYetValid, VerifyError, WrongAudience, WrongIssuer, WrongTokenType,
} from './errors.js'
import { Introspector } from './introspection.js'
import { JwksCache } from './jwks-cache.js'
import { KeyResolver } from './key-resolver.js'
import { resolveOptions, type VerifierOptions } from './options.js'

/** The claims of an RFC 9068 access token, as verified. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string
  sub: string
  aud: string | string[]
  exp: number
  iat: number
  jti: string
  client_id: string
  /** Space-delimited scopes. */
  scope?: string
  /** The refresh family, on tokens from a password or refresh grant. */
  sid?: string
}

export interface Verifier {
  readonly issuer: string
  /**
   * Verifies an access token and returns its claims. Throws only {@link VerifyError} subclasses:
   * 401 `invalid_token` ones for a bad token, InsufficientScope (403) when a required scope
   * (from the options or `requiredScopes` here) is missing, IssuerUnavailable (503) when the
   * issuer's keys or introspection cannot be had.
   */
  verify(token: string, options?: { requiredScopes?: readonly string[] }): Promise<AccessTokenClaims>
}

const REQUIRED_CLAIMS = ['sub', 'exp', 'iat', 'jti', 'client_id']
const STRING_CLAIMS = ['sub', 'jti', 'client_id'] as const
/** Far above any real access token; stops decoding of absurd input early. */
const MAX_TOKEN_CHARS = 16_384

/**
 * A verifier of one issuer's RFC 9068 access tokens for one resource server. Nothing is fetched
 * until the first verification. Throws VerifierOptionsError for unsafe options.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const o = resolveOptions(options)
  const http = { fetch: o.fetch, timeoutMs: o.timeoutMs }
  const discovery = new IssuerDiscovery(o.issuer, http, o.clock, o.cooldownMs)
  const jwks = new JwksCache({ http, clock: o.clock, cooldownMs: o.cooldownMs, staleIfErrorMs: o.staleIfErrorMs, jwksUri: async () => (await discovery.get()).jwks_uri })
  const keys = new KeyResolver(jwks)
  const introspector = o.introspection && new Introspector({
    http, clock: o.clock,
    endpoint: async () => (await discovery.get()).introspection_endpoint ?? fail(new IssuerUnavailable('discovery lists no introspection_endpoint')),
  }, o.introspection)
  // Passed to jose as is: a per-call copy (for currentDate) only when a test clock is injected.
  const verifyOptions = { issuer: o.issuer, audience: [...o.audience], algorithms: [...o.algorithms], typ: 'at+jwt', requiredClaims: REQUIRED_CLAIMS, clockTolerance: o.leewaySec }
  const systemTime = options.clock === undefined
  const allowed = new Set(o.algorithms)

  /**
   * The key for this token, looked up only after its alg and typ passed (RFC 9068 §4), so an ID
   * token or an HMAC forgery never costs a JWKS refetch. Synchronous on a warm cache.
   */
  const keyFor = (token: string): CryptoKey | Promise<CryptoKey> => {
    if (token.split('.', 4).length !== 3) throw new MalformedToken('not a compact JWS')
    const header = decodeProtectedHeader(token)
    if (typeof header.alg !== 'string') throw new MalformedToken('no alg')
    if (!allowed.has(header.alg)) throw new AlgorithmNotAllowed(`alg ${header.alg} is not allowed`)
    if (typeof header.typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(header.typ)) {
      throw new WrongTokenType(`typ ${JSON.stringify(header.typ)} is not at+jwt`)
    }
    return keys.resolve(header.kid, header.alg)
  }

  return {
    issuer: o.issuer,
    async verify(token, call = {}) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) throw new MalformedToken('token is not a string of sane length')
      const nowMs = o.clock.now()
      let claims: AccessTokenClaims
      try {
        const found = keyFor(token)
        const key = found instanceof Promise ? await found : found
        const joseOptions = systemTime ? verifyOptions : { ...verifyOptions, currentDate: new Date(nowMs) }
        claims = (await jwtVerify(token, key, joseOptions)).payload as AccessTokenClaims
      } catch (err) {
        throw toVerifyError(err)
      }
      checkClaims(claims, nowMs, o.leewaySec)
      assertScopes(claims, call.requiredScopes ? [...o.requiredScopes, ...call.requiredScopes] : o.requiredScopes)
      if (introspector) await introspector.assertActive(token, claims.exp)
      return claims
    },
  }
}

/**
 * Throws {@link InsufficientScope} unless the token's space-delimited `scope` holds every one of
 * `required` (RFC 6750 §3.1).
 */
export function assertScopes(claims: Pick<AccessTokenClaims, 'scope'>, required: readonly string[]): void {
  if (required.length === 0) return
  const granted = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ') : [])
  const missing = required.filter(s => !granted.has(s))
  if (missing.length > 0) throw new InsufficientScope([...new Set(required)], `missing scope ${missing.join(' ')}`)
}

/** What jose leaves to us: claim types, and an `iat` from the future. */
function checkClaims(claims: AccessTokenClaims, nowMs: number, leewaySec: number): void {
  for (const name of STRING_CLAIMS) {
    if (typeof claims[name] !== 'string' || claims[name] === '') throw new MalformedToken(`claim ${name} is not a non-empty string`)
  }
  if (claims.scope !== undefined && typeof claims.scope !== 'string') throw new MalformedToken('claim scope is not a string')
  if (claims.iat > nowMs / 1000 + leewaySec) throw new TokenNotYetValid('iat is in the future')
}

/** Every failure becomes a typed error; jose's codes map onto ours, anything else is malformed input. */
function toVerifyError(err: unknown): VerifyError {
  if (err instanceof VerifyError) return err
  const detail = err instanceof Error ? err.message : String(err)
  if (err instanceof errors.JWTExpired) return new TokenExpired(detail)
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return new MissingClaim(detail)
    switch (err.claim) {
      case 'nbf': return new TokenNotYetValid(detail)
      case 'iss': return new WrongIssuer(detail)
      case 'aud': return new WrongAudience(detail)
      case 'typ': return new WrongTokenType(detail)
      default: return new MalformedToken(detail, { cause: err })
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return new AlgorithmNotAllowed(detail)
  if (err instanceof errors.JWSSignatureVerificationFailed) return new BadSignature(detail)
  return new MalformedToken(detail, { cause: err })
}

function fail(err: Error): never {
  throw err
}
