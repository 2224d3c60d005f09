import { createHash } from 'node:crypto'
import { TtlCache } from '../cache/ttl-cache.js'
import { IssuerUnavailable, TokenRevoked } from './errors.js'
import { readJsonObject, requestIssuer, type IssuerHttp } from './issuer-fetch.js'
import type { IntrospectionOptions } from './options.js'

export interface IntrospectionDeps {
  http: IssuerHttp
  clock: { now(): number }
  /** The `introspection_endpoint`, resolved lazily (from discovery). */
  endpoint(): Promise<string>
}

/** Bounds memory under a flood of distinct valid tokens; the least recently used answers go first. */
const MAX_ENTRIES = 10_000

/**
 * RFC 7662 client with `client_secret_basic`. Answers are cached per token (by its SHA-256,
 * so no token sits in memory as a key): `active: true` for `cacheTtlMs`, `active: false` until
 * the token expires, since a revoked token never becomes active again. Concurrent checks of one
 * token share one request.
 */
export class Introspector {
  private readonly answers: TtlCache<string, { active: boolean }>
  private pending = new Map<string, Promise<boolean>>()
  private readonly authorization: string

  constructor(private readonly deps: IntrospectionDeps, private readonly options: Required<IntrospectionOptions>) {
    this.answers = new TtlCache({ max: MAX_ENTRIES, now: () => deps.clock.now() })
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
    this.authorization = 'Basic ' + Buffer.from(`${enc(options.clientId)}:${enc(options.clientSecret)}`).toString('base64')
  }

  /**
   * Resolves when the issuer says the token is active; throws {@link TokenRevoked} when it says
   * it is not, and {@link IssuerUnavailable} when it cannot be asked (fail closed).
   * @param expSec the token's already verified `exp`, bounding how long an answer is kept.
   */
  async assertActive(token: string, expSec: number): Promise<void> {
    const id = createHash('sha256').update(token).digest('base64url')
    const cached = this.answers.get(id)
    let active: boolean
    if (cached) {
      active = cached.active
    } else {
      let request = this.pending.get(id)
      if (!request) {
        request = this.ask(token).finally(() => this.pending.delete(id))
        this.pending.set(id, request)
      }
      active = await request
      this.remember(id, active, expSec)
    }
    if (!active) throw new TokenRevoked('the issuer reports the token inactive')
  }

  private async ask(token: string): Promise<boolean> {
    const url = await this.deps.endpoint()
    const res = await requestIssuer(this.deps.http, url, {
      method: 'POST',
      headers: { authorization: this.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    })
    const body = await readJsonObject(res, `introspection at ${url}`)
    if (typeof body.active !== 'boolean') throw new IssuerUnavailable(`introspection at ${url}: "active" is not a boolean`)
    return body.active
  }

  private remember(id: string, active: boolean, expSec: number): void {
    const now = this.deps.clock.now()
    const untilMs = active ? Math.min(now + this.options.cacheTtlMs, expSec * 1000) : expSec * 1000
    this.answers.set(id, { active }, untilMs - now)
  }
}
