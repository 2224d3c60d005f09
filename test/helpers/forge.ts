import { randomUUID } from 'node:crypto'
import { SignJWT, type JWTPayload, type JWTHeaderParameters } from 'jose'
import type { Services } from '../../src/services.js'

/**
 * Signs arbitrary claims with the issuer's own current key of `alg` (from its real key ring), for
 * tokens Sigil never mints itself: expired, not yet valid, another issuer, an ID token's typ.
 * `claims` are added to a valid access token's claims (`undefined` removes one).
 */
export async function signWithIssuerKey(
  services: Services, alg: 'ES256' | 'RS256',
  opts: { header?: Partial<JWTHeaderParameters>; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const key = services.ring.signingKey(alg)
  if (!key) throw new Error(`no current ${alg} key`)
  return new SignJWT(accessClaims(services.config.issuer, opts.claims))
    .setProtectedHeader({ alg, kid: key.kid, typ: 'at+jwt', ...opts.header })
    .sign(key.privateKey)
}

/** A valid access token's claims for `issuer`, audience `https://api.example`, with `extra` applied. */
export function accessClaims(issuer: string, extra: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = {
    iss: issuer, sub: 'user-1', aud: 'https://api.example', exp: now + 300, iat: now, jti: randomUUID(),
    client_id: 'forge-client', scope: 'orders:read', ...extra,
  }
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k]
  return claims
}
