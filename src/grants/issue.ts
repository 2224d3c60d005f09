import type { Config, SigningAlg } from '../config.js'
import type { Client } from '../clients/client.js'
import { SCOPE_TOKEN } from '../clients/client.js'
import { InvalidScope, InvalidTarget } from '../errors.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../metrics/ports.js'
import type { IpSlotGate } from '../rate-limit/attempt-limits.js'
import type { StoreGeneration } from '../revocation/store-generation.js'
import { signAccessToken, type SimplejwtUser, type TokenDeps } from '../tokens/access-token.js'

/** A parsed token request: the authenticated client and the single-valued parameters. */
export interface TokenRequest {
  client: Client
  params: Readonly<Record<string, string | undefined>>
  /** The client IP (Fastify's, which believes X-Forwarded-For only from TRUST_PROXY). */
  ip: string
  /** The request's logger: audit lines go here. */
  log: Logger
  /** Issue 12: the IP failure-slot check the grant's store step makes itself, if it is to (see limitIpFailures). */
  ipSlot?: IpSlotGate
}

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope?: string
  refresh_token?: string
  id_token?: string
}

export interface GrantDeps extends TokenDeps {
  config: Pick<Config, 'issuer' | 'clockSkewSec' | 'accessTokenTtlSec' | 'signingAlg'>
  generation: StoreGeneration
  metrics?: Metrics
}

/**
 * The granted scope: what was asked for, which must lie within `allowed` (RFC 6749 §3.3), or
 * all of `allowed` when nothing was asked. Throws {@link InvalidScope}.
 */
export function narrowScope(requested: string | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined || requested.trim() === '') return [...allowed]
  const asked = [...new Set(requested.split(' ').filter(Boolean))]
  const bad = asked.find(s => !SCOPE_TOKEN.test(s))
  if (bad !== undefined) throw new InvalidScope('scope is malformed')
  const outside = asked.filter(s => !allowed.includes(s))
  if (outside.length > 0) throw new InvalidScope(`scope not allowed for this client: ${outside.join(' ')}`)
  return asked
}

/**
 * The token's audience: the `resource` (RFC 8707) or `audience` asked for, which must be one
 * the client is registered for; otherwise all of them; the issuer itself for a client with none.
 */
function resolveAudience(req: TokenRequest, issuer: string): string[] {
  const registered = req.client.audience.length > 0 ? req.client.audience : [issuer]
  const asked = req.params.resource ?? req.params.audience
  if (asked === undefined) return registered
  if (!registered.includes(asked)) throw new InvalidTarget('the requested resource/audience is not allowed for this client')
  return [asked]
}

/** What a grant hands to {@link issueAccessToken}. */
export interface AccessGrant { sub: string; scope: string[]; sid?: string; user?: SimplejwtUser }

/** A token response with the `jti` and `exp` (epoch seconds) of its access token, for a grant that records them. */
export interface IssuedTokens { response: TokenResponse; jti: string; exp: number }

/**
 * Signs the access token for a grant under the client's and the store's current generations
 * (so deleting or narrowing the client, or a store losing its data, ends it), writes the
 * `token_issued` audit line and shapes the RFC 6749 §5.1 response.
 */
export async function issueAccessToken(deps: GrantDeps, req: TokenRequest, grant: AccessGrant): Promise<TokenResponse> {
  return (await issueAccessTokenWithId(deps, req, grant)).response
}

/** {@link issueAccessToken}, also returning the token's `jti` and `exp`: nothing to decode back out of it. */
export async function issueAccessTokenWithId(deps: GrantDeps, req: TokenRequest, grant: AccessGrant): Promise<IssuedTokens> {
  const ttlSec = req.client.accessTokenTtlSec ?? deps.config.accessTokenTtlSec
  const alg: SigningAlg = req.client.signingAlg ?? deps.config.signingAlg
  const { token, jti, exp } = await signAccessToken(deps, {
    sub: grant.sub,
    clientId: req.client.clientId,
    scope: grant.scope,
    audience: resolveAudience(req, deps.config.issuer),
    ttlSec,
    alg,
    profile: req.client.tokenProfile,
    ...(grant.sid === undefined ? {} : { sid: grant.sid }),
    ...(grant.user === undefined ? {} : { user: grant.user }),
    generations: { client: req.client.generation, store: await deps.generation.forIssuance() },
  })
  deps.metrics?.tokenIssued(req.params.grant_type ?? 'unknown')
  req.log.info({
    event: 'token_issued', outcome: 'success', grant_type: req.params.grant_type, client_id: req.client.clientId,
    sub: grant.sub, jti, ip: req.ip,
  }, 'token issued')
  const response: TokenResponse = {
    access_token: token,
    token_type: 'Bearer',
    expires_in: ttlSec,
    ...(grant.scope.length > 0 ? { scope: grant.scope.join(' ') } : {}),
  }
  return { response, jti, exp }
}
