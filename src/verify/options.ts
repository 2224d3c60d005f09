import { VerifierOptionsError } from './errors.js'

/** Asymmetric JWS algorithms only: a verifier holds public keys, so HMAC and `none` never fit. */
export const ASYMMETRIC_ALGS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'] as const

export interface IntrospectionOptions {
  clientId: string
  clientSecret: string
  /** How long an `active: true` answer is reused for one token. Default 10 000 ms. */
  cacheTtlMs?: number
}

export interface VerifierOptions {
  /** Exactly the issuer's `iss` (no trailing slash); discovery is read from `${issuer}/.well-known/openid-configuration`. */
  issuer: string
  /** This resource server's identifier(s): the token's `aud` must hold one of them (RFC 9068 §4). */
  audience: string | readonly string[]
  /** Accepted `alg` values. Default `['ES256', 'RS256']`. HMAC and `none` are refused. */
  algorithms?: readonly string[]
  /** Allowed clock difference for `exp`, `nbf` and `iat`. Default 30 s. */
  leewaySec?: number
  /** Scopes every token must carry (space-delimited `scope` claim). */
  requiredScopes?: readonly string[]
  /** Unknown kids refetch the JWKS at most once per this period; failed fetches retry no sooner. Default 30 000 ms. */
  cooldownMs?: number
  /** How long past its max-age a JWKS may still be used while the issuer cannot be reached. Default 3 600 000 ms. */
  staleIfErrorMs?: number
  /** Timeout of each request to the issuer. Default 5 000 ms. */
  timeoutMs?: number
  /** The fetch to reach the issuer with (a proxy, a custom agent). Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch
  /** Time source in epoch ms, for tests. Default `Date.now`. */
  clock?: { now(): number }
  /** RFC 7662 revocation awareness: ask the issuer whether each (locally valid) token is still active. */
  introspection?: IntrospectionOptions
}

export interface ResolvedOptions {
  readonly issuer: string
  readonly audience: readonly string[]
  readonly algorithms: readonly string[]
  readonly leewaySec: number
  readonly requiredScopes: readonly string[]
  readonly cooldownMs: number
  readonly staleIfErrorMs: number
  readonly timeoutMs: number
  readonly fetch: typeof globalThis.fetch
  readonly clock: { now(): number }
  readonly introspection: Required<IntrospectionOptions> | undefined
}

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/**
 * Validates and completes verifier options once. Throws {@link VerifierOptionsError} for anything
 * unsafe or meaningless (an HMAC or `none` algorithm, no audience, negative times).
 */
export function resolveOptions(o: VerifierOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) fail('options must be an object')
  if (typeof o.issuer !== 'string' || !URL.canParse(o.issuer) || !/^https?:$/.test(new URL(o.issuer).protocol)) fail('issuer must be an http(s) URL')
  const audience = typeof o.audience === 'string' ? [o.audience] : Array.isArray(o.audience) ? [...o.audience] : []
  if (audience.length === 0 || audience.some(a => typeof a !== 'string' || a === '')) fail('audience must be a non-empty string or list of strings')
  const algorithms = [...(o.algorithms ?? ['ES256', 'RS256'])]
  for (const alg of algorithms) {
    if (!(ASYMMETRIC_ALGS as readonly string[]).includes(alg)) fail(`algorithm ${String(alg)} is not allowed: only ${ASYMMETRIC_ALGS.join(', ')}`)
  }
  if (algorithms.length === 0) fail('algorithms must not be empty')
  const requiredScopes = [...(o.requiredScopes ?? [])]
  if (requiredScopes.some(s => typeof s !== 'string' || !SCOPE_TOKEN.test(s))) fail('requiredScopes must be scope tokens (RFC 6749 §3.3)')
  const fetchImpl = o.fetch ?? globalThis.fetch
  if (typeof fetchImpl !== 'function') fail('fetch must be a function')
  return Object.freeze({
    issuer: o.issuer,
    audience,
    algorithms,
    leewaySec: nonNegative('leewaySec', o.leewaySec, 30),
    requiredScopes,
    cooldownMs: nonNegative('cooldownMs', o.cooldownMs, 30_000),
    staleIfErrorMs: nonNegative('staleIfErrorMs', o.staleIfErrorMs, 3_600_000),
    timeoutMs: nonNegative('timeoutMs', o.timeoutMs, 5_000),
    fetch: fetchImpl,
    clock: o.clock ?? { now: () => Date.now() },
    introspection: resolveIntrospection(o.introspection),
  })
}

function resolveIntrospection(i: IntrospectionOptions | undefined): Required<IntrospectionOptions> | undefined {
  if (i === undefined) return undefined
  if (typeof i.clientId !== 'string' || i.clientId === '' || typeof i.clientSecret !== 'string' || i.clientSecret === '') {
    fail('introspection needs clientId and clientSecret')
  }
  return Object.freeze({ clientId: i.clientId, clientSecret: i.clientSecret, cacheTtlMs: nonNegative('introspection.cacheTtlMs', i.cacheTtlMs, 10_000) })
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`${name} must be a non-negative number`)
  return value
}

function fail(message: string): never {
  throw new VerifierOptionsError(message)
}
