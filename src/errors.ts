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

export class InvalidClient extends OAuthError {
  /** @param usedBasic the client tried HTTP Basic, so RFC 6749 §5.2 wants a WWW-Authenticate: Basic challenge. */
  constructor(detail: string, readonly usedBasic = false) {
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

/** RFC 6750 §3.1: valid token without the scope the resource needs. */
export class InsufficientScope extends OAuthError {
  constructor(readonly scope: string) { super('insufficient_scope', 403, `the access token lacks scope ${scope}`) }
}

export class NotFound extends OAuthError {
  constructor(description: string) { super('not_found', 404, description) }
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
