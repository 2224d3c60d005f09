/**
 * Every error a client can see. `description` goes in the response body; `detail` goes only
 * to the log, so that, for example, "no such client" and "wrong secret" read the same.
 * This is the only file that spells the RFC 6749 §5.2 error codes.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly statusCode: number,
    readonly description: string,
    readonly detail?: string,
  ) {
    super(detail ?? description)
    this.name = new.target.name
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description: string, detail?: string) { super('invalid_request', 400, description, detail) }
}

/**
 * Input no legitimate client sends (a NUL character anywhere in the request): `invalid_request`,
 * and counted like a failed authentication (RATE_LIMIT_IP_FAILURES).
 */
export class MalformedInput extends InvalidRequest {}

/**
 * RFC 6749 §5.2: always 401 with a `WWW-Authenticate: Basic` challenge, whichever method the
 * client tried (RFC 9110 §15.5.2: every 401 carries a challenge; Basic is the one to use).
 */
export class InvalidClient extends OAuthError {
  constructor(detail: string) {
    super('invalid_client', 401, 'client authentication failed', detail)
  }
}

export class InvalidGrant extends OAuthError {
  constructor(detail: string) { super('invalid_grant', 400, 'grant is invalid, expired or revoked', detail) }
}

export class UnauthorizedClient extends OAuthError {
  constructor(detail: string) { super('unauthorized_client', 400, 'client is not allowed to use this grant type', detail) }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(detail: string) { super('unsupported_grant_type', 400, 'grant_type is not supported', detail) }
}

export class InvalidScope extends OAuthError {
  constructor(description: string) { super('invalid_scope', 400, description) }
}

/** RFC 8707 §2: a `resource`/`audience` the client may not ask for. */
export class InvalidTarget extends OAuthError {
  constructor(description: string) { super('invalid_target', 400, description) }
}

/** RFC 6750 §3.1: missing, malformed, expired or revoked bearer token. */
export class InvalidToken extends OAuthError {
  constructor(detail: string) { super('invalid_token', 401, 'the access token is invalid, expired or revoked', detail) }
}

/**
 * RFC 6750 §3.1: the request carried no bearer token at all (no Authorization header, or
 * another scheme). 401 whose challenge names no error, as the RFC asks for this case.
 */
export class MissingToken extends OAuthError {
  constructor() { super('invalid_token', 401, 'an access token is required') }
}

/** RFC 6750 §3.1: valid token without the scope the resource needs. */
export class InsufficientScope extends OAuthError {
  constructor(readonly scope: string) { super('insufficient_scope', 403, `the access token lacks scope ${scope}`) }
}

export class NotFound extends OAuthError {
  constructor(description: string) { super('not_found', 404, description) }
}

/** RFC 9110 §15.5.6: the path exists but not with this method; `allow` becomes the Allow header. */
export class MethodNotAllowed extends OAuthError {
  constructor(readonly allow: readonly string[]) { super('method_not_allowed', 405, `allowed methods: ${allow.join(', ')}`) }
}

/** The HTTP parser refused the request before any route saw it (400, 408, 431). */
export class UnreadableRequest extends OAuthError {
  constructor(statusCode: 400 | 408 | 431, description: string) { super('invalid_request', statusCode, description) }
}

export class Conflict extends OAuthError {
  constructor(description: string) { super('conflict', 409, description) }
}

/** A dependency (database, Redis) is down: fail closed, tell the client to retry. */
export class TemporarilyUnavailable extends OAuthError {
  constructor(detail: string) { super('temporarily_unavailable', 503, 'the service is temporarily unavailable, retry later', detail) }
}

/** RFC 6585 §4: too many attempts from one IP or for one username; `retryAfterSec` becomes Retry-After. */
export class TooManyRequests extends OAuthError {
  constructor(readonly retryAfterSec: number, detail: string) {
    super('too_many_requests', 429, 'too many attempts, retry later', detail)
  }
}

/** RFC 6749 §4.1.2.1: the authorization server supports only `response_type=code`. */
export class UnsupportedResponseType extends OAuthError {
  constructor(detail: string) { super('unsupported_response_type', 400, 'only response_type=code is supported', detail) }
}

/** RFC 6749 §4.1.2.1: the user (or Sigil for them) said no. */
export class AccessDenied extends OAuthError {
  constructor(detail: string) { super('access_denied', 400, 'the user denied the request', detail) }
}

/** OIDC Core §3.1.2.6: `prompt=none` but the user must log in first. */
export class LoginRequired extends OAuthError {
  constructor(detail: string) { super('login_required', 400, 'the user must log in', detail) }
}

/** OIDC Core §3.1.2.6: `prompt=none` but the user must consent first. */
export class ConsentRequired extends OAuthError {
  constructor(detail: string) { super('consent_required', 400, 'the user must consent', detail) }
}
