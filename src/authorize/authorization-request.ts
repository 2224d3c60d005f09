import type { Client } from '../clients/client.js'
import { InvalidRequest, UnauthorizedClient, UnsupportedResponseType } from '../errors.js'
import { narrowScope } from '../grants/issue.js'
import type { AuthorizationRequest } from '../store/login-ports.js'

export type AuthorizeParams = Readonly<Record<string, string | undefined>>

/** Where an authorization response may go: a known client and one of its registered redirect URIs. */
export interface RedirectTarget {
  client: Client
  redirectUri: string
}

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/
const PROMPTS = new Set(['none', 'login', 'consent'])
const MAX_PARAM_CHARS = 2000

/**
 * RFC 6749 §4.1.2.1: the client and redirect URI of an authorization request, which must be
 * established before any error may be sent to the redirect URI. Throws {@link InvalidRequest}
 * (shown on Sigil's own page, never redirected) for a missing or unknown `client_id`, or a
 * `redirect_uri` missing or not registered for the client (see {@link isSameRedirectUri}).
 */
export async function resolveRedirectTarget(
  findClient: (clientId: string) => Promise<Client | null>, params: AuthorizeParams,
): Promise<RedirectTarget> {
  const clientId = params.client_id
  if (clientId === undefined || clientId === '') throw new InvalidRequest('client_id is missing')
  const client = await findClient(clientId)
  if (!client) throw new InvalidRequest('unknown client_id', `unknown client ${clientId.slice(0, 128)}`)
  const redirectUri = params.redirect_uri
  if (redirectUri === undefined || redirectUri === '') throw new InvalidRequest('redirect_uri is missing')
  if (!client.redirectUris.some(registered => isSameRedirectUri(registered, redirectUri))) {
    throw new InvalidRequest('redirect_uri is not registered for this client', `unregistered redirect_uri for ${clientId}`)
  }
  return { client, redirectUri }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

/**
 * Exact string match (RFC 9700 §4.1.3), except for loopback redirect URIs of native apps:
 * RFC 8252 §7.3 says the server MUST allow any port at request time, since the app listens on
 * an ephemeral one. There scheme, host, path and query still match exactly; only the port may
 * differ. The token request must then repeat the URI with the port it used. Pure.
 */
export function isSameRedirectUri(registered: string, requested: string): boolean {
  if (registered === requested) return true
  if (!registered.startsWith('http://') || !requested.startsWith('http://')) return false
  if (!URL.canParse(registered) || !URL.canParse(requested)) return false
  const a = new URL(registered)
  const b = new URL(requested)
  if (!LOOPBACK_HOSTS.has(a.hostname) || a.hostname !== b.hostname) return false
  if (b.username !== '' || b.password !== '' || requested.includes('#')) return false
  a.port = ''
  b.port = ''
  return a.href === b.href
}

/**
 * The rest of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1),
 * checked once the redirect target is known. Throws an OAuthError the caller redirects:
 * UnsupportedResponseType, UnauthorizedClient, InvalidRequest (bad response_mode, PKCE
 * missing or not S256, malformed prompt or max_age), InvalidScope.
 */
export function parseAuthorizationRequest(target: RedirectTarget, params: AuthorizeParams): AuthorizationRequest {
  const { client, redirectUri } = target
  const tooLong = Object.entries(params).find(([, v]) => v !== undefined && v.length > MAX_PARAM_CHARS)
  if (tooLong) throw new InvalidRequest(`${tooLong[0]} is too long`)
  if (params.response_type === undefined || params.response_type === '') throw new InvalidRequest('response_type is missing')
  if (params.response_type !== 'code') throw new UnsupportedResponseType(`response_type ${params.response_type}`)
  if (!client.grantTypes.includes('authorization_code')) throw new UnauthorizedClient(`${client.clientId} is not registered for authorization_code`)
  if (params.response_mode !== undefined && params.response_mode !== 'query') throw new InvalidRequest('only response_mode=query is supported')
  if (params.request !== undefined || params.request_uri !== undefined) throw new InvalidRequest('request objects are not supported')
  const codeChallenge = pkceChallenge(params)
  return {
    clientId: client.clientId,
    redirectUri,
    scope: narrowScope(params.scope ?? '', client.scopes),
    codeChallenge,
    prompt: parsePrompt(params.prompt),
    ...optional('state', params.state),
    ...optional('nonce', params.nonce),
    ...optional('loginHint', params.login_hint),
    ...(params.max_age === undefined ? {} : { maxAgeSec: parseMaxAge(params.max_age) }),
  }
}

/** RFC 7636 §4.3, as OAuth 2.1 requires for every client: an S256 challenge; `plain` is refused. */
function pkceChallenge(params: AuthorizeParams): string {
  const challenge = params.code_challenge
  if (challenge === undefined || challenge === '') throw new InvalidRequest('code_challenge is required (PKCE, RFC 7636)')
  const method = params.code_challenge_method ?? 'plain'
  if (method !== 'S256') throw new InvalidRequest('code_challenge_method must be S256')
  if (!S256_CHALLENGE.test(challenge)) throw new InvalidRequest('code_challenge must be 43 base64url characters (S256)')
  return challenge
}

function parsePrompt(prompt: string | undefined): AuthorizationRequest['prompt'] {
  const values = [...new Set((prompt ?? '').split(' ').filter(Boolean))]
  if (!values.every(v => PROMPTS.has(v))) throw new InvalidRequest('prompt must be none, login or consent')
  // OIDC Core §3.1.2.1: none together with any other value is an error.
  if (values.includes('none') && values.length > 1) throw new InvalidRequest('prompt=none cannot be combined with other values')
  return values as AuthorizationRequest['prompt']
}

function parseMaxAge(value: string): number {
  if (!/^\d{1,10}$/.test(value)) throw new InvalidRequest('max_age must be a whole number of seconds')
  return Number(value)
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string>)
}
