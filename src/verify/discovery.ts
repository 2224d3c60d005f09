import { IssuerUnavailable } from './errors.js'
import { readJsonObject, requestIssuer, type IssuerHttp } from './issuer-fetch.js'

export interface IssuerMetadata {
  issuer: string
  jwks_uri: string
  introspection_endpoint: string | undefined
}

/**
 * The issuer's discovery document (OpenID Connect Discovery 1.0 §4), read once and kept for the
 * life of the verifier. A failed read is retried no sooner than `cooldownMs`; until then callers
 * get the same {@link IssuerUnavailable} at once instead of each waiting on a dead issuer.
 */
export class IssuerDiscovery {
  private metadata: IssuerMetadata | undefined
  private pending: Promise<IssuerMetadata> | undefined
  private failure: { atMs: number; error: IssuerUnavailable } | undefined

  constructor(private readonly issuer: string, private readonly http: IssuerHttp, private readonly clock: { now(): number }, private readonly cooldownMs: number) {}

  /** The metadata; throws {@link IssuerUnavailable} when it cannot be read or names another issuer. */
  async get(): Promise<IssuerMetadata> {
    if (this.metadata) return this.metadata
    if (this.failure && this.clock.now() - this.failure.atMs < this.cooldownMs) throw this.failure.error
    this.pending ??= this.load().finally(() => { this.pending = undefined })
    return this.pending
  }

  private async load(): Promise<IssuerMetadata> {
    try {
      this.metadata = await this.read()
      this.failure = undefined
      return this.metadata
    } catch (err) {
      const error = err instanceof IssuerUnavailable ? err : new IssuerUnavailable(`discovery failed: ${String(err)}`, { cause: err })
      this.failure = { atMs: this.clock.now(), error }
      throw error
    }
  }

  private async read(): Promise<IssuerMetadata> {
    const url = `${this.issuer}/.well-known/openid-configuration`
    const doc = await readJsonObject(await requestIssuer(this.http, url, { headers: { accept: 'application/json' } }), url)
    // OpenID Connect Discovery §4.3 / RFC 8414 §3.3: the document must name exactly this issuer (mix-up defence).
    if (doc.issuer !== this.issuer) throw new IssuerUnavailable(`${url} names issuer ${JSON.stringify(doc.issuer)}, expected ${this.issuer}`)
    return {
      issuer: this.issuer,
      jwks_uri: this.endpoint(doc, 'jwks_uri', true)!,
      introspection_endpoint: this.endpoint(doc, 'introspection_endpoint', false),
    }
  }

  /** An absolute URL, and https whenever the issuer itself is https. */
  private endpoint(doc: Record<string, unknown>, name: string, required: boolean): string | undefined {
    const value = doc[name]
    if (value === undefined && !required) return undefined
    const secure = this.issuer.startsWith('https:')
    if (typeof value !== 'string' || !URL.canParse(value) || !(secure ? /^https:$/ : /^https?:$/).test(new URL(value).protocol)) {
      throw new IssuerUnavailable(`discovery ${name} ${JSON.stringify(value)} is not a usable ${secure ? 'https ' : ''}URL`)
    }
    return value
  }
}
