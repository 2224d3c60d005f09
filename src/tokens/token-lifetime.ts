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
