/**
 * `sigil/verify`: verification of Sigil's RFC 9068 access tokens in a resource server.
 * Depends on `jose` and Node built-ins only.
 * @packageDocumentation
 */
export { createVerifier, assertScopes, type AccessTokenClaims, type Verifier } from './verifier.js'
export type { VerifierOptions, IntrospectionOptions } from './options.js'
export { ASYMMETRIC_ALGS } from './options.js'
export { extractBearerToken, bearerChallenge } from './bearer.js'
export {
  VerifyError, type BearerErrorCode, TokenMissing, MalformedRequest, MalformedToken, AlgorithmNotAllowed, WrongTokenType,
  UnknownKey, BadSignature, TokenExpired, TokenNotYetValid, WrongIssuer, WrongAudience, MissingClaim, TokenRevoked,
  InsufficientScope, IssuerUnavailable, VerifierOptionsError,
} from './errors.js'
