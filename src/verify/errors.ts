/**
 * The errors of `sigil/verify`. Each has a stable `code` (also a static member, so
 * `err.code === TokenExpired.code` works), the RFC 6750 §3.1 `bearerError` it maps to, an HTTP
 * `status`, and a `description` that is safe to send to the client. `message` carries the detail
 * and belongs in logs.
 */

/** RFC 6750 §3.1 error codes; `undefined` when the answer carries none (no token, issuer down). */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope'

export abstract class VerifyError extends Error {
  abstract readonly code: string
  abstract readonly status: 400 | 401 | 403 | 503
  abstract readonly bearerError: BearerErrorCode | undefined
  /** Fixed text for `error_description`: never holds token contents, kids or claim values. */
  abstract readonly description: string

  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options)
    this.name = new.target.name
  }
}

abstract class InvalidTokenError extends VerifyError {
  readonly status = 401
  readonly bearerError = 'invalid_token'
}

/** No `Authorization: Bearer` credentials at all: RFC 6750 §3.1 says answer with no error code. */
export class TokenMissing extends VerifyError {
  static readonly code = 'ERR_TOKEN_MISSING'
  readonly code = TokenMissing.code
  readonly status = 401
  readonly bearerError = undefined
  readonly description = 'a bearer access token is required'
}

/** A Bearer header that is not one RFC 6750 §2.1 token. */
export class MalformedRequest extends VerifyError {
  static readonly code = 'ERR_MALFORMED_REQUEST'
  readonly code = MalformedRequest.code
  readonly status = 400
  readonly bearerError = 'invalid_request'
  readonly description = 'the Authorization header is malformed'
}

export class MalformedToken extends InvalidTokenError {
  static readonly code = 'ERR_MALFORMED_TOKEN'
  readonly code = MalformedToken.code
  readonly description = 'the access token is malformed'
}

export class AlgorithmNotAllowed extends InvalidTokenError {
  static readonly code = 'ERR_ALGORITHM_NOT_ALLOWED'
  readonly code = AlgorithmNotAllowed.code
  readonly description = 'the access token is signed with an algorithm that is not accepted'
}

export class WrongTokenType extends InvalidTokenError {
  static readonly code = 'ERR_WRONG_TOKEN_TYPE'
  readonly code = WrongTokenType.code
  readonly description = 'the token is not an access token'
}

export class UnknownKey extends InvalidTokenError {
  static readonly code = 'ERR_UNKNOWN_KEY'
  readonly code = UnknownKey.code
  readonly description = 'the access token is signed with an unknown key'
}

export class BadSignature extends InvalidTokenError {
  static readonly code = 'ERR_BAD_SIGNATURE'
  readonly code = BadSignature.code
  readonly description = 'the access token signature is invalid'
}

export class TokenExpired extends InvalidTokenError {
  static readonly code = 'ERR_TOKEN_EXPIRED'
  readonly code = TokenExpired.code
  readonly description = 'the access token has expired'
}

export class TokenNotYetValid extends InvalidTokenError {
  static readonly code = 'ERR_TOKEN_NOT_YET_VALID'
  readonly code = TokenNotYetValid.code
  readonly description = 'the access token is not valid yet'
}

export class WrongIssuer extends InvalidTokenError {
  static readonly code = 'ERR_WRONG_ISSUER'
  readonly code = WrongIssuer.code
  readonly description = 'the access token is from another issuer'
}

export class WrongAudience extends InvalidTokenError {
  static readonly code = 'ERR_WRONG_AUDIENCE'
  readonly code = WrongAudience.code
  readonly description = 'the access token is not meant for this resource server'
}

export class MissingClaim extends InvalidTokenError {
  static readonly code = 'ERR_MISSING_CLAIM'
  readonly code = MissingClaim.code
  readonly description = 'the access token lacks a required claim'
}

export class TokenRevoked extends InvalidTokenError {
  static readonly code = 'ERR_TOKEN_REVOKED'
  readonly code = TokenRevoked.code
  readonly description = 'the access token is no longer active'
}

/** A valid token without every scope the resource needs: 403, RFC 6750 §3.1. */
export class InsufficientScope extends VerifyError {
  static readonly code = 'ERR_INSUFFICIENT_SCOPE'
  readonly code = InsufficientScope.code
  readonly status = 403
  readonly bearerError = 'insufficient_scope'
  readonly description = 'the access token lacks a required scope'

  /** @param requiredScopes every scope the resource needs, for the `scope` challenge attribute. */
  constructor(readonly requiredScopes: readonly string[], detail: string) {
    super(detail)
  }
}

/**
 * The issuer's discovery document, JWKS or introspection endpoint could not be used and no
 * cached answer may stand in. 503, not 401: the token may be fine, and telling clients it is
 * invalid would send every one of them back to an issuer that is already struggling.
 */
export class IssuerUnavailable extends VerifyError {
  static readonly code = 'ERR_ISSUER_UNAVAILABLE'
  readonly code = IssuerUnavailable.code
  readonly status = 503
  readonly bearerError = undefined
  readonly description = 'the token issuer cannot be reached; try again shortly'
}

/** Thrown by `createVerifier` for options that cannot be made safe (HMAC or `none` allowed, …). */
export class VerifierOptionsError extends TypeError {
  static readonly code = 'ERR_VERIFIER_OPTIONS'
  readonly code = VerifierOptionsError.code
  override name = 'VerifierOptionsError'
}
