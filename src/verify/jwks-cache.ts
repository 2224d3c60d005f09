import type { JWK } from 'jose'
import { IssuerUnavailable } from './errors.js'
import { freshnessMs, readJsonObject, requestIssuer, type IssuerHttp } from './issuer-fetch.js'

export interface JwksCacheDeps {
  http: IssuerHttp
  clock: { now(): number }
  /** The `jwks_uri`, resolved lazily (from discovery). */
  jwksUri(): Promise<string>
  cooldownMs: number
  staleIfErrorMs: number
}

interface KeySet {
  keys: Map<string, JWK>
  etag: string | undefined
  freshUntilMs: number
}

/**
 * The issuer's JWKS, kept as the issuer's `Cache-Control: max-age` allows and revalidated with
 * `If-None-Match`. Unknown kids refetch at most once per cool-down, so a flood of forged kids
 * costs the issuer one request per cool-down. When a refresh fails, the last set keeps serving
 * for `staleIfErrorMs` past its freshness (RFC 5861 stale-if-error), and the next attempt waits
 * for the cool-down. Concurrent callers share one request.
 */
export class JwksCache {
  private set: KeySet | undefined
  private failure: IssuerUnavailable | undefined
  private lastAttemptMs = -Infinity
  private pending: Promise<void> | undefined

  constructor(private readonly deps: JwksCacheDeps) {}

  /**
   * The published key with this kid, or undefined when the issuer does not publish it.
   * Throws {@link IssuerUnavailable} when no key set is fresh or within its stale-if-error window.
   */
  async find(kid: string): Promise<JWK | undefined> {
    if (this.isDue() && !(this.failure && this.isCoolingDown())) await this.refresh()
    const jwk = this.usableKeys().get(kid)
    if (jwk !== undefined || this.isCoolingDown()) return jwk
    await this.refresh()
    return this.usableKeys().get(kid)
  }

  /** The key with this kid if the set is fresh and holds it; never fetches (the hot path). */
  peek(kid: string): JWK | undefined {
    return this.set !== undefined && this.deps.clock.now() < this.set.freshUntilMs ? this.set.keys.get(kid) : undefined
  }

  private isDue(): boolean {
    return this.set === undefined || this.deps.clock.now() >= this.set.freshUntilMs
  }

  private isCoolingDown(): boolean {
    return this.deps.clock.now() - this.lastAttemptMs < this.deps.cooldownMs
  }

  private usableKeys(): Map<string, JWK> {
    if (this.set && this.deps.clock.now() < this.set.freshUntilMs + this.deps.staleIfErrorMs) return this.set.keys
    throw this.failure ?? new IssuerUnavailable('no usable JWKS')
  }

  private refresh(): Promise<void> {
    this.pending ??= this.load().finally(() => { this.pending = undefined })
    return this.pending
  }

  /** Never throws: a failure is recorded and surfaces only if no usable set remains. */
  private async load(): Promise<void> {
    this.lastAttemptMs = this.deps.clock.now()
    try {
      const uri = await this.deps.jwksUri()
      const headers: Record<string, string> = { accept: 'application/jwk-set+json, application/json' }
      if (this.set?.etag !== undefined) headers['if-none-match'] = this.set.etag
      const res = await requestIssuer(this.deps.http, uri, { headers })
      const freshUntilMs = this.deps.clock.now() + freshnessMs(res.headers)
      if (res.status === 304 && this.set) {
        this.set = { ...this.set, freshUntilMs }
      } else {
        const keys = parseKeySet(await readJsonObject(res, uri), uri)
        this.set = { keys, etag: res.headers.get('etag') ?? undefined, freshUntilMs }
      }
      this.failure = undefined
    } catch (err) {
      this.failure = err instanceof IssuerUnavailable ? err : new IssuerUnavailable(`JWKS refresh failed: ${String(err)}`, { cause: err })
    }
  }
}

/** The members a public signature key may carry: private or symmetric parts are never imported. */
const PUBLIC_MEMBERS = ['kty', 'kid', 'alg', 'crv', 'x', 'y', 'n', 'e'] as const

/**
 * RFC 7517 §5: the usable signature keys by kid. Keys without a kid, symmetric keys, keys for
 * encryption, and kids that appear twice (ambiguous) are left out.
 */
function parseKeySet(body: Record<string, unknown>, uri: string): Map<string, JWK> {
  if (!Array.isArray(body.keys)) throw new IssuerUnavailable(`${uri} is not a JWK set`)
  const keys = new Map<string, JWK>()
  const seen = new Set<string>()
  for (const raw of body.keys as unknown[]) {
    if (typeof raw !== 'object' || raw === null) continue
    const k = raw as JWK
    if (typeof k.kid !== 'string' || k.kid === '' || (k.kty !== 'EC' && k.kty !== 'RSA' && k.kty !== 'OKP')) continue
    if ((k.use !== undefined && k.use !== 'sig') || (k.key_ops !== undefined && !k.key_ops.includes('verify'))) continue
    if (seen.has(k.kid)) {
      keys.delete(k.kid)
      continue
    }
    seen.add(k.kid)
    const pub: JWK = {}
    for (const m of PUBLIC_MEMBERS) if (k[m] !== undefined) pub[m] = k[m]
    keys.set(k.kid, pub)
  }
  return keys
}
