import { randomUUID } from 'node:crypto'
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose'
import type { Clock } from '../clock.js'
import type { Config, SigningAlg } from '../config.js'
import type { TokenProfile } from '../clients/client.js'
import { InvalidToken, TemporarilyUnavailable } from '../errors.js'
import type { KeyRing } from '../keys/key-ring.js'
import { signJws } from './jws.js'

export interface TokenDeps {
  ring: KeyRing
  clock: Clock
  config: Pick<Config, 'issuer' | 'clockSkewSec'>
}

export interface AccessTokenSpec {
  sub: string
  clientId: string
  scope: string[]
  audience: string[]
  ttlSec: number
  alg: SigningAlg
  profile: TokenProfile
  /** The refresh family, for tokens from a password or refresh grant. */
  sid?: string
  /** What the token is valid under: see {@link AccessTokenClaims.cgen} and {@link AccessTokenClaims.sgen}. */
  generations: { client: string; store: string }
  /** The user the token is for (absent for client_credentials): the simplejwt profile's claims come from it. */
  user?: SimplejwtUser
}

/** What a Django resource server's `TokenUser` reads from a simplejwt-profile token. */
export interface SimplejwtUser {
  username: string
  djangoId: number | null
  isStaff: boolean
  isSuperuser: boolean
}

/**
 * The claims the `simplejwt` profile adds (issue 13): `token_type: "access"`, and `user_id` —
 * the Django primary key as a JSON integer for a user imported from Django, else `sub` — plus
 * `username`, `is_staff` and `is_superuser` for a user. Pure.
 */
function simplejwtClaims(sub: string, user: SimplejwtUser | undefined): Record<string, unknown> {
  if (!user) return { token_type: 'access', user_id: sub }
  return {
    token_type: 'access', user_id: user.djangoId ?? sub, username: user.username, is_staff: user.isStaff, is_superuser: user.isSuperuser,
  }
}

export interface AccessTokenClaims extends JWTPayload {
  iss: string
  sub: string
  aud: string | string[]
  exp: number
  iat: number
  jti: string
  client_id: string
  scope: string
  sid?: string
  /** Private claim: the client's registration generation it was issued under (clients/client.ts). */
  cgen?: string
  /** Private claim: the store generation it was issued under (revocation/store-generation.ts). */
  sgen?: string
}

/**
 * Signs an RFC 9068 access token with the current key of `spec.alg` (in memory, synchronous, no I/O).
 * The `simplejwt` profile adds what stock djangorestframework-simplejwt requires
 * ({@link simplejwtClaims}).
 * Throws {@link TemporarilyUnavailable} when there is no current key.
 */
export async function signAccessToken(deps: TokenDeps, spec: AccessTokenSpec): Promise<{ token: string; jti: string; exp: number }> {
  const key = deps.ring.signingKey(spec.alg)
  if (!key) throw new TemporarilyUnavailable(`no current ${spec.alg} signing key`)
  const iat = Math.floor(deps.clock.now() / 1000)
  const exp = iat + spec.ttlSec
  const jti = randomUUID()
  const claims: Record<string, unknown> = {
    iss: deps.config.issuer,
    sub: spec.sub,
    aud: spec.audience.length === 1 ? spec.audience[0]! : spec.audience,
    exp,
    iat,
    jti,
    client_id: spec.clientId,
    scope: spec.scope.join(' '),
    cgen: spec.generations.client,
    sgen: spec.generations.store,
  }
  if (spec.sid !== undefined) claims.sid = spec.sid
  if (spec.profile === 'simplejwt') Object.assign(claims, simplejwtClaims(spec.sub, spec.user))
  const token = signJws(key, 'at+jwt', claims)
  return { token, jti, exp }
}

/**
 * Verifies one of our access tokens locally: a published key (so not revoked), its own
 * algorithm only, `typ: at+jwt` (an ID token is refused), issuer, expiry (no leeway: the
 * clock that set `exp` is ours). Audience is the caller's to check. Throws {@link InvalidToken}.
 */
export async function verifyAccessToken(deps: TokenDeps, token: string): Promise<AccessTokenClaims> {
  let kid: string | undefined
  try {
    kid = decodeProtectedHeader(token).kid
  } catch {
    throw new InvalidToken('malformed token')
  }
  const key = kid === undefined ? undefined : deps.ring.verificationKey(kid)
  if (!key) throw new InvalidToken('unknown, retired or revoked kid')
  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      issuer: deps.config.issuer,
      typ: 'at+jwt',
      algorithms: [key.alg],
      currentDate: new Date(deps.clock.now()),
      requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
    })
    return payload as AccessTokenClaims
  } catch (err) {
    if (err instanceof errors.JOSEError) throw new InvalidToken(err.code)
    throw err
  }
}
