import type { SigningAlg } from '../config.js'
import { TemporarilyUnavailable } from '../errors.js'
import type { TokenDeps } from './access-token.js'
import { signJws } from './jws.js'

export interface IdTokenSpec {
  sub: string
  /** The audience: the client the user logged in through. */
  clientId: string
  alg: SigningAlg
  ttlSec: number
  /** When the user last authenticated (epoch seconds). */
  authTimeSec: number
  /** Claims released by the granted scopes (preferred_username, email). */
  userClaims: Record<string, string>
  /** The session (refresh family) the token belongs to, when there is one. */
  sid?: string
  /** Echoed from the authorization request (OIDC Core §2), when it had one. */
  nonce?: string
}

/**
 * Signs an OpenID Connect Core §2 ID token with the current key of `spec.alg` (synchronous, no I/O):
 * `iss sub aud exp iat auth_time` plus the released user claims. Its header says `typ: JWT`,
 * never `at+jwt`, so verifyAccessToken refuses it wherever an access token is expected.
 * Throws {@link TemporarilyUnavailable} when there is no current key.
 */
export async function signIdToken(deps: TokenDeps, spec: IdTokenSpec): Promise<string> {
  const key = deps.ring.signingKey(spec.alg)
  if (!key) throw new TemporarilyUnavailable(`no current ${spec.alg} signing key`)
  const iat = Math.floor(deps.clock.now() / 1000)
  const claims: Record<string, unknown> = {
    ...spec.userClaims,
    iss: deps.config.issuer,
    sub: spec.sub,
    aud: spec.clientId,
    iat,
    exp: iat + spec.ttlSec,
    auth_time: spec.authTimeSec,
  }
  if (spec.sid !== undefined) claims.sid = spec.sid
  if (spec.nonce !== undefined) claims.nonce = spec.nonce
  return signJws(key, 'JWT', claims)
}
