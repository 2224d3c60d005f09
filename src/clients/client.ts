import { z } from 'zod'
import { SIGNING_ALGS, type SigningAlg } from '../config.js'
import { redirectUriProblem } from './redirect-uri.js'

export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const
/** Every grant type Sigil knows: what clients register for and discovery lists. */
export const GRANT_TYPES = ['authorization_code', 'client_credentials', 'password', 'refresh_token'] as const
export const TOKEN_PROFILES = ['rfc9068', 'simplejwt'] as const
/** first_party: the user is never asked to consent; third_party: asked once per scope set, remembered. */
export const CONSENT_MODES = ['first_party', 'third_party'] as const

export type AuthMethod = (typeof AUTH_METHODS)[number]
export type GrantType = (typeof GRANT_TYPES)[number]
export type TokenProfile = (typeof TOKEN_PROFILES)[number]
export type ConsentMode = (typeof CONSENT_MODES)[number]

/** A registered client as the domain sees it. */
export interface Client {
  clientId: string
  /** null for public clients (`none`). */
  secretHash: string | null
  tokenEndpointAuthMethod: AuthMethod
  grantTypes: GrantType[]
  scopes: string[]
  /** Empty: tokens are for the issuer itself. */
  audience: string[]
  signingAlg: SigningAlg | null
  accessTokenTtlSec: number | null
  tokenProfile: TokenProfile
  /** Exact-match redirect URIs of the authorization code flow. */
  redirectUris: string[]
  /** Registered targets of RP-initiated logout. */
  postLogoutRedirectUris: string[]
  consent: ConsentMode
  /**
   * This registration's generation: a random id that changes when the client is registered
   * again, its secret changes or anything it may ask for is taken away. Tokens and refresh
   * families carry the one they were issued under; once it differs they are dead.
   */
  generation: string
  createdAt: Date
}

export const isPublicClient = (c: Pick<Client, 'tokenEndpointAuthMethod'>) => c.tokenEndpointAuthMethod === 'none'

/**
 * Issue 11: whether something issued earlier still fits the client as it is now: issued under
 * this very registration (`generation`) and asking for nothing the client may no longer have.
 * Every change that narrows a client starts a new generation; the scope check holds even for
 * one that did not pass through the registry.
 */
export function isIssuedUnder(client: Pick<Client, 'generation' | 'scopes'> | null, issued: { generation: string | undefined; scope: readonly string[] }): boolean {
  return client !== null && issued.generation === client.generation && issued.scope.every(s => client.scopes.includes(s))
}

/** RFC 6749 §3.3 scope-token: NQCHAR = %x21 / %x23-5B / %x5D-7E. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/** The client_ids POST /admin/clients and `sigil clients create` register (RFC 3986 unreserved). */
const REGISTERED_CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/

/** SIGIL_ADMIN_CLIENT_ID may be any visible ASCII (src/config.ts). */
const BOOTSTRAP_CLIENT_ID = /^[\x21-\x7e]{1,200}$/

/**
 * True when `clientId` could name a client Sigil holds (registered or bootstrap admin). Checked
 * before any lookup: nothing else reaches the database. Pure; never throws.
 */
export const isClientIdShaped = (clientId: string) => REGISTERED_CLIENT_ID.test(clientId) || BOOTSTRAP_CLIENT_ID.test(clientId)

const redirectUri = z.string().superRefine((uri, ctx) => {
  const problem = redirectUriProblem(uri)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
})
const redirectUris = z.array(redirectUri).max(50).default([])

/** The registration payload of POST /admin/clients and `sigil clients create`. */
export const clientInput = z.object({
  client_id: z.string().regex(REGISTERED_CLIENT_ID, 'must be 1-128 characters of A-Z a-z 0-9 . _ ~ -').optional(),
  client_secret: z.string().min(32, 'must be at least 32 characters').max(512).optional(),
  token_endpoint_auth_method: z.enum(AUTH_METHODS),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1),
  scopes: z.array(z.string().regex(SCOPE_TOKEN, 'must be a scope token (RFC 6749 §3.3)')).default([]),
  audience: z.union([z.string().min(1), z.array(z.string().min(1))]).optional()
    .transform(a => (a === undefined ? [] : Array.isArray(a) ? a : [a])),
  signing_alg: z.enum(SIGNING_ALGS).optional(),
  access_token_ttl: z.number().int().min(1).max(86400).optional(),
  token_profile: z.enum(TOKEN_PROFILES).default('rfc9068'),
  redirect_uris: redirectUris,
  post_logout_redirect_uris: redirectUris,
  consent: z.enum(CONSENT_MODES).default('first_party'),
}).strict().superRefine((c, ctx) => {
  if (c.token_endpoint_auth_method === 'none' && c.client_secret !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['client_secret'], message: 'a public client (none) has no secret' })
  }
  if (c.token_endpoint_auth_method === 'none' && c.grant_types.includes('client_credentials')) {
    ctx.addIssue({ code: 'custom', path: ['grant_types'], message: 'client_credentials needs a confidential client' })
  }
  if (c.grant_types.includes('authorization_code') && c.redirect_uris.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['redirect_uris'], message: 'authorization_code needs at least one redirect URI' })
  }
})

const registration = clientInput.shape

/**
 * The payload of PATCH /admin/clients/:client_id and `sigil clients update`: only what is
 * given changes. A new secret is given (`client_secret`) or generated (`rotate_secret: true`).
 */
export const clientUpdate = z.object({
  client_secret: registration.client_secret,
  rotate_secret: z.literal(true).optional(),
  grant_types: registration.grant_types.optional(),
  scopes: registration.scopes.unwrap().optional(),
  audience: registration.audience.optional(),
}).strict().superRefine((c, ctx) => {
  if (Object.values(c).every(v => v === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'nothing to change' })
  if (c.client_secret !== undefined && c.rotate_secret) {
    ctx.addIssue({ code: 'custom', path: ['rotate_secret'], message: 'give a client_secret or ask for a generated one, not both' })
  }
})

/** The public view of a client: what the admin API returns (never the secret hash). */
export function describeClient(c: Client) {
  return {
    client_id: c.clientId,
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    grant_types: c.grantTypes,
    scopes: c.scopes,
    audience: c.audience,
    signing_alg: c.signingAlg,
    access_token_ttl: c.accessTokenTtlSec,
    token_profile: c.tokenProfile,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    consent: c.consent,
    created_at: c.createdAt.toISOString(),
  }
}
