import { z } from 'zod'
import { normalizeUsername } from './username.js'

/** A user as the domain sees it. */
export interface User {
  id: string
  /** As registered (NFC); shown as `preferred_username`. */
  username: string
  /** normalizeUsername (RFC 8265 UsernameCaseMapped) of `username`: the unique form logins are matched in. */
  usernameNormalized: string
  email: string | null
  claims: UserClaims
  /** argon2id PHC string, or a Django hash as imported until the first login rehashes it (users/django-hash.ts). */
  passwordHash: string
  disabled: boolean
  /** Django's primary key of a user imported from Django (the simplejwt profile's `user_id`); null otherwise. */
  djangoId: number | null
  /** Django's `is_staff` and `is_superuser`, carried as claims in the simplejwt profile. */
  isStaff: boolean
  isSuperuser: boolean
  createdAt: Date
}

export type UserClaims = Record<string, unknown>

/** RFC 8265 §3.4 (OpaqueString) bounds; a longer password is refused before any hashing. */
const PASSWORD_MIN_CHARS = 8
export const PASSWORD_MAX_CHARS = 256
const USERNAME_MAX_CHARS = 128
const CLAIMS_MAX_BYTES = 4096

/**
 * Claims a user's custom claims may not set: those of RFC 7519, RFC 9068 and OpenID Connect
 * Core §2 that Sigil itself decides, the simplejwt profile's, and the ones derived from the user's
 * own fields. A custom `sub` would otherwise let an operator's typo impersonate someone.
 */
const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'scope', 'client_id', 'sid', 'auth_time',
  'nonce', 'acr', 'amr', 'azp', 'at_hash', 'c_hash', 'cnf', 'token_type', 'user_id',
  'preferred_username', 'email', 'username', 'is_staff', 'is_superuser',
])

/** User ids are UUIDs (randomUUID at registration). */
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** True when `id` could be a user id; anything else is not looked up. Pure; never throws. */
export const isUserId = (id: string) => USER_ID.test(id)

/** Counts code points, so a password of emoji is measured as typed. */
const chars = (s: string) => [...s].length

/**
 * RFC 8265 OpaqueString: passwords are compared in NFC, so the same password typed on systems
 * that compose accents differently still matches. Pure; never throws.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFC')
}

/** True when a login's password is too long to be any user's: it is refused unhashed. */
export function isOversizedPassword(password: string): boolean {
  // Cheap bound first: a string of more UTF-16 units than 2 × the maximum cannot fit.
  return password.length > 2 * PASSWORD_MAX_CHARS || chars(password) > PASSWORD_MAX_CHARS
}

const username = z.string()
  .transform(s => s.normalize('NFC'))
  .refine(s => chars(s) >= 1 && chars(s) <= USERNAME_MAX_CHARS, `must be 1-${USERNAME_MAX_CHARS} characters`)
  .refine(s => normalizeUsername(s) !== null,
    'must be letters, digits and printable ASCII, in words separated by single spaces (RFC 8265 UsernameCaseMapped)')

const password = z.string()
  .max(2 * PASSWORD_MAX_CHARS, `must be at most ${PASSWORD_MAX_CHARS} characters`)
  .refine(s => chars(s) >= PASSWORD_MIN_CHARS, `must be at least ${PASSWORD_MIN_CHARS} characters`)
  .refine(s => chars(s) <= PASSWORD_MAX_CHARS, `must be at most ${PASSWORD_MAX_CHARS} characters`)

const CLAIMS_MAX_DEPTH = 8

/** Depth of nested objects/arrays, counting no further than `limit` + 1 (so no input can overflow the stack). */
function depthOf(value: unknown, limit: number): number {
  if (value === null || typeof value !== 'object') return 0
  if (limit < 0) return 1
  return 1 + Math.max(0, ...Object.values(value).map(v => depthOf(v, limit - 1)))
}

// Size and depth are checked before anything walks the claims: a deeply nested body is a 400,
// not a stack overflow.
const claims = z.custom<Record<string, unknown>>(
  c => c !== null && typeof c === 'object' && !Array.isArray(c) && depthOf(c, CLAIMS_MAX_DEPTH) <= CLAIMS_MAX_DEPTH,
  `must be a JSON object nested at most ${CLAIMS_MAX_DEPTH} deep`,
)
  .refine(c => Buffer.byteLength(JSON.stringify(c)) <= CLAIMS_MAX_BYTES, `must be at most ${CLAIMS_MAX_BYTES} bytes of JSON`)
  .superRefine((c, ctx) => {
    const reserved = Object.keys(c).filter(k => RESERVED_CLAIMS.has(k))
    if (reserved.length > 0) ctx.addIssue({ code: 'custom', message: `must not set registered claims: ${reserved.join(' ')}` })
  })

/** The payload of POST /admin/users and `sigil users create`. */
export const userInput = z.object({
  username,
  password,
  email: z.email('must be an email address').max(254).optional(),
  claims: claims.optional(),
}).strict()

/** The public view of a user: what the admin API returns. */
export function describeUser(u: Pick<User, 'id' | 'username'>) {
  return { id: u.id, username: u.username }
}
