import type { Config } from '../config.js'

export interface TokenLifetimeDeps {
  config: Pick<Config, 'clockSkewSec'>
  /** The longest lifetime an access token may be given now (seconds). */
  maxTokenTtlSec(): Promise<number>
}

/**
 * How long an access token issued now may still be accepted somewhere (ms): the longest
 * lifetime plus the clock skew verifiers allow. A revocation is remembered this long, and a
 * retired signing key stays published this long.
 */
export async function acceptanceWindowMs(deps: TokenLifetimeDeps): Promise<number> {
  return (await deps.maxTokenTtlSec() + deps.config.clockSkewSec) * 1000
}

/**
 * The longest lifetime an access token may be given now (seconds): ACCESS_TOKEN_TTL, or the
 * longest `access_token_ttl` a client is registered with when that is longer. Reads the database.
 */
export async function maxAccessTokenTtlSec(
  config: Pick<Config, 'accessTokenTtlSec'>, clients: { maxAccessTokenTtlSec(): Promise<number | null> },
): Promise<number> {
  return Math.max(config.accessTokenTtlSec, (await clients.maxAccessTokenTtlSec()) ?? 0)
}
