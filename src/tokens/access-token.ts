import { randomUUID } from 'node:crypto'
import { decodeProtectedHeader, type JWTPayload } from 'jose'
import type { Clock } from '../clock.js'
import type { Config, SigningAlg } from '../config.js'
import type { TokenProfile } from '../clients/client.js'
import { InvalidToken, TemporarilyUnavailable } from '../errors.js'
import type { KeyRing } from '../keys/key-ring.js'
import { signJws, verifyJws } from './jws.js'

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
 * clock that set `exp` is ours). Audience is the caller's to check. Throws {@link InvalidToken}
 * with the code jose's `jwtVerify` gives the same failure. The signature is checked with
 * `crypto.verify` ({@link verifyJws}), the claims as `jwtVerify` does for these options.
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
  const verified = verifyJws(key.jws, token)
  if ('error' in verified) throw new InvalidToken(verified.error)
  return checkAccessClaims(deps, verified.header, verified.payload)
}

const REQUIRED_CLAIMS = ['iss', 'sub', 'exp', 'iat', 'jti', 'client_id'] as const
const UTF8 = new TextDecoder('utf-8', { fatal: true })
/** jose's comparison of `typ` values: `at+jwt` and `application/at+jwt` are the same. */
const normalizeTyp = (value: string) => (value.includes('/') ? value.toLowerCase() : `application/${value.toLowerCase()}`)

/** The checks of jose's `validateClaimsSet` for Sigil's options, in its order and with its codes. */
function checkAccessClaims(deps: TokenDeps, header: Record<string, unknown>, payload: Buffer): AccessTokenClaims {
  let claims: unknown
  try {
    claims = JSON.parse(UTF8.decode(payload))
  } catch {
    throw new InvalidToken('ERR_JWT_INVALID')
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new InvalidToken('ERR_JWT_INVALID')
  const c = claims as Record<string, unknown>
  const failed = () => new InvalidToken('ERR_JWT_CLAIM_VALIDATION_FAILED')
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== normalizeTyp('at+jwt')) throw failed()
  if (!REQUIRED_CLAIMS.every(claim => Object.hasOwn(c, claim))) throw failed()
  if (c.iss !== deps.config.issuer) throw failed()
  const now = Math.floor(deps.clock.now() / 1000)
  if (c.iat !== undefined && typeof c.iat !== 'number') throw failed()
  if (c.nbf !== undefined && (typeof c.nbf !== 'number' || c.nbf > now)) throw failed()
  if (c.exp !== undefined && typeof c.exp !== 'number') throw failed()
  if ((c.exp as number) <= now) throw new InvalidToken('ERR_JWT_EXPIRED')
  return c as AccessTokenClaims
}
