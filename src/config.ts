import { isIP } from 'node:net'
import { z } from 'zod'
import { parseRedisUrl, RedisUrlError } from './store/redis/redis-url.js'
import { describeFirstIssue } from './payload.js'

/** Validated, frozen configuration. The only reader of the environment is {@link parseConfig}. */
export interface Config {
  readonly issuer: string
  readonly host: string
  readonly port: number
  /** Listener for /metrics, /healthz and /readyz, kept off the public port; 0: any free port. */
  readonly managementHost: string
  readonly managementPort: number
  /** Slow-client limits of both listeners (see {@link httpServerOptions} in src/http/server-options.ts). */
  readonly httpHeadersTimeoutSec: number
  readonly httpRequestTimeoutSec: number
  readonly httpKeepAliveTimeoutSec: number
  readonly httpConnectionTimeoutSec: number
  /** Unset: embedded PostgreSQL (PGlite) under {@link Config.dataDir}. */
  readonly databaseUrl: string | undefined
  readonly dataDir: string
  /** Unset: in-process store (single instance only). */
  readonly redisUrl: string | undefined
  readonly kek: string | undefined
  readonly kekFile: string | undefined
  readonly keysDir: string
  readonly adminClient: { readonly clientId: string; readonly clientSecret: string } | undefined
  readonly accessTokenTtlSec: number
  readonly refreshTokenTtlSec: number
  readonly refreshIdleTtlSec: number
  readonly refreshReuseGraceSec: number
  readonly signingAlg: SigningAlg
  /** 0 disables automatic rotation. */
  readonly keyRotationIntervalSec: number
  readonly logLevel: string
  readonly jwksMaxAgeSec: number
  readonly keyLeadTimeSec: number
  readonly rateLimitIpFailures: number
  readonly rateLimitUserFailures: number
  /** 0: no cap. */
  readonly rateLimitIp: number
  /** Fastify's trustProxy: false, a hop count, or a list of addresses/CIDRs. */
  readonly trustProxy: false | number | readonly string[]
  readonly shutdownTimeoutSec: number
  /** Browser origins allowed by CORS; empty: CORS off. */
  readonly corsOrigins: readonly string[]
  /** Mean event-loop lag above which requests are shed with 503 (not from the environment). */
  readonly maxEventLoopDelayMs: number
  /** Allowed clock difference between issuer and resource servers. */
  readonly clockSkewSec: number
  /** A browser login session (the SSO cookie) unused this long ends. */
  readonly loginSessionIdleTtlSec: number
  /** A browser login session ends this long after the login, however much it is used. */
  readonly loginSessionTtlSec: number
  /** Branding of the hosted login pages. */
  readonly loginBranding: LoginBranding
  /** Path prefix of the simplejwt-compatible endpoints (`/api/token`); null: they are off. */
  readonly simplejwtPrefix: string | null
}

export interface LoginBranding {
  readonly productName: string
  /** An https URL (or a path on the issuer), or undefined for none. */
  readonly logoUrl: string | undefined
  /** `#rgb` or `#rrggbb`: nothing else can reach the stylesheet. */
  readonly accentColor: string
}

export const SIGNING_ALGS = ['ES256', 'RS256'] as const
export type SigningAlg = (typeof SIGNING_ALGS)[number]

/** Thrown for a bad environment; the message is the one line an operator sees. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

const secondsValue = (min = 0) =>
  z.coerce.number({ error: 'must be a number of seconds' }).int('must be a whole number of seconds').min(min, `must be at least ${min}`)
const seconds = (fallback: number, min = 0) => secondsValue(min).default(fallback)
const count = (fallback: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative').default(fallback)

const port = (fallback: number) =>
  z.coerce.number({ error: 'must be a port number' }).int('must be a port number').min(0, 'must be a port number')
    .max(65535, 'must be a port number').default(fallback)

const issuer = z.string().refine(isIssuerUrl, 'must be an http(s) URL with no trailing slash, query or fragment')

const schema = z.object({
  ISSUER: issuer.default('http://localhost:3000'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port(3000),
  MANAGEMENT_HOST: z.string().min(1).default('127.0.0.1'),
  MANAGEMENT_PORT: port(9000),
  HTTP_HEADERS_TIMEOUT: seconds(10, 1),
  HTTP_REQUEST_TIMEOUT: seconds(30, 1),
  HTTP_KEEP_ALIVE_TIMEOUT: seconds(72, 1),
  HTTP_CONNECTION_TIMEOUT: seconds(30, 1),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL').optional(),
  REDIS_URL: z.string().superRefine((s, ctx) => {
    try {
      parseRedisUrl(s)
    } catch (err) {
      if (!(err instanceof RedisUrlError)) throw err
      ctx.addIssue({ code: 'custom', message: err.message })
    }
  }).optional(),
  SIGIL_KEK: z.string().refine(s => decodeKek(s) !== undefined, 'must be 32 bytes, base64 or hex encoded').optional(),
  SIGIL_KEK_FILE: z.string().min(1).optional(),
  SIGIL_ADMIN_CLIENT_ID: z.string().regex(/^[\x21-\x7e]{1,200}$/, 'must be 1-200 visible ASCII characters').optional(),
  SIGIL_ADMIN_CLIENT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL: seconds(900, 1).pipe(z.number().max(86400, 'must be at most 86400')),
  REFRESH_TOKEN_TTL: seconds(2592000, 1),
  REFRESH_IDLE_TTL: seconds(1209600, 1),
  REFRESH_REUSE_GRACE: seconds(0).pipe(z.number().max(300, 'must be at most 300')),
  SIGNING_ALG: z.enum(SIGNING_ALGS, { error: 'must be ES256 or RS256' }).default('ES256'),
  KEY_ROTATION_INTERVAL: seconds(2592000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    { error: 'must be one of fatal error warn info debug trace silent' }).default('info'),
  JWKS_MAX_AGE: seconds(300),
  KEY_LEAD_TIME: secondsValue().optional(),
  RATE_LIMIT_IP_FAILURES: count(100),
  RATE_LIMIT_USER_FAILURES: count(10),
  RATE_LIMIT_IP: count(0),
  TRUST_PROXY: z.string().optional().transform((s, ctx) => {
    const parsed = parseTrustProxy(s)
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a hop count or a comma-separated list of IP addresses/CIDRs' })
      return z.NEVER
    }
    return parsed
  }),
  SHUTDOWN_TIMEOUT: seconds(10),
  CORS_ORIGINS: z.string().optional().transform((s, ctx) => {
    const origins = (s ?? '').split(',').map(x => x.trim()).filter(Boolean)
    if (origins.every(isOrigin)) return origins
    ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of origins like https://app.example.com (scheme, host, port; no path)' })
    return z.NEVER
  }),
  LOGIN_SESSION_IDLE_TTL: seconds(28800, 60),
  LOGIN_SESSION_TTL: seconds(604800, 60),
  LOGIN_PRODUCT_NAME: z.string().trim().min(1).max(80, 'must be at most 80 characters').default('Sigil'),
  LOGIN_LOGO_URL: z.string().max(2000).refine(isLogoUrl, 'must be an https:// URL or a path starting with /').optional(),
  SIMPLEJWT_PREFIX: z.string().regex(/^(off|(\/[A-Za-z0-9._~-]+)+\/?)$/, 'must be a path like /api/token, or off')
    .default('/api/token').transform(p => (p === 'off' ? null : p.replace(/\/$/, ''))),
  LOGIN_ACCENT_COLOR: z.string().regex(/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'must be a colour like #1a73e8 or #18e').default('#2454d6'),
})

/**
 * Validates the environment once. Throws {@link ConfigError} naming the first bad variable.
 * Empty strings count as unset, as most process managers write them for "no value".
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const result = schema.safeParse(cleaned)
  if (!result.success) throw new ConfigError(describeFirstIssue(result.error, 'environment'))
  const e = result.data
  if ((e.SIGIL_ADMIN_CLIENT_ID === undefined) !== (e.SIGIL_ADMIN_CLIENT_SECRET === undefined)) {
    throw new ConfigError('SIGIL_ADMIN_CLIENT_SECRET: SIGIL_ADMIN_CLIENT_ID and SIGIL_ADMIN_CLIENT_SECRET must be set together')
  }
  if (e.SIGIL_KEK !== undefined && e.SIGIL_KEK_FILE !== undefined) {
    throw new ConfigError('SIGIL_KEK_FILE: set SIGIL_KEK or SIGIL_KEK_FILE, not both')
  }
  if (e.HTTP_HEADERS_TIMEOUT > e.HTTP_REQUEST_TIMEOUT) {
    // Node refuses a server whose headers may take longer than the whole request.
    throw new ConfigError(`HTTP_HEADERS_TIMEOUT: must be at most HTTP_REQUEST_TIMEOUT (${e.HTTP_REQUEST_TIMEOUT})`)
  }
  if (e.MANAGEMENT_PORT !== 0 && e.MANAGEMENT_PORT === e.PORT) {
    throw new ConfigError(`MANAGEMENT_PORT: must differ from PORT (${e.PORT}): /metrics is kept off the public listener`)
  }
  const keyLeadTimeSec = e.KEY_LEAD_TIME ?? e.JWKS_MAX_AGE + 300
  if (keyLeadTimeSec < e.JWKS_MAX_AGE) {
    throw new ConfigError(`KEY_LEAD_TIME: must be at least JWKS_MAX_AGE (${e.JWKS_MAX_AGE}), or caches miss the next key`)
  }
  return Object.freeze({
    issuer: e.ISSUER,
    host: e.HOST,
    port: e.PORT,
    managementHost: e.MANAGEMENT_HOST,
    managementPort: e.MANAGEMENT_PORT,
    httpHeadersTimeoutSec: e.HTTP_HEADERS_TIMEOUT,
    httpRequestTimeoutSec: e.HTTP_REQUEST_TIMEOUT,
    httpKeepAliveTimeoutSec: e.HTTP_KEEP_ALIVE_TIMEOUT,
    httpConnectionTimeoutSec: e.HTTP_CONNECTION_TIMEOUT,
    databaseUrl: e.DATABASE_URL,
    dataDir: './data',
    redisUrl: e.REDIS_URL,
    kek: e.SIGIL_KEK,
    kekFile: e.SIGIL_KEK_FILE,
    keysDir: './keys',
    adminClient: e.SIGIL_ADMIN_CLIENT_ID !== undefined && e.SIGIL_ADMIN_CLIENT_SECRET !== undefined
      ? Object.freeze({ clientId: e.SIGIL_ADMIN_CLIENT_ID, clientSecret: e.SIGIL_ADMIN_CLIENT_SECRET })
      : undefined,
    accessTokenTtlSec: e.ACCESS_TOKEN_TTL,
    refreshTokenTtlSec: e.REFRESH_TOKEN_TTL,
    refreshIdleTtlSec: e.REFRESH_IDLE_TTL,
    refreshReuseGraceSec: e.REFRESH_REUSE_GRACE,
    signingAlg: e.SIGNING_ALG,
    keyRotationIntervalSec: e.KEY_ROTATION_INTERVAL,
    logLevel: e.LOG_LEVEL,
    jwksMaxAgeSec: e.JWKS_MAX_AGE,
    keyLeadTimeSec,
    rateLimitIpFailures: e.RATE_LIMIT_IP_FAILURES,
    rateLimitUserFailures: e.RATE_LIMIT_USER_FAILURES,
    rateLimitIp: e.RATE_LIMIT_IP,
    trustProxy: e.TRUST_PROXY,
    shutdownTimeoutSec: e.SHUTDOWN_TIMEOUT,
    corsOrigins: Object.freeze(e.CORS_ORIGINS),
    // Conservative: only a badly stalled instance sheds load; a busy one answers slowly.
    maxEventLoopDelayMs: 1000,
    clockSkewSec: 60,
    loginSessionIdleTtlSec: Math.min(e.LOGIN_SESSION_IDLE_TTL, e.LOGIN_SESSION_TTL),
    loginSessionTtlSec: e.LOGIN_SESSION_TTL,
    loginBranding: Object.freeze({ productName: e.LOGIN_PRODUCT_NAME, logoUrl: e.LOGIN_LOGO_URL, accentColor: e.LOGIN_ACCENT_COLOR }),
    simplejwtPrefix: e.SIMPLEJWT_PREFIX,
  })
}

/** A 32-byte KEK from base64 (standard or url-safe) or 64 hex digits; undefined if neither. */
export function decodeKek(text: string): Buffer | undefined {
  const s = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex')
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) {
    const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    if (b.length === 32) return b
  }
  return undefined
}

function isIssuerUrl(s: string): boolean {
  if (!URL.canParse(s)) return false
  const u = new URL(s)
  return (u.protocol === 'https:' || u.protocol === 'http:') && !s.endsWith('/') && u.search === '' && u.hash === ''
}

function isLogoUrl(s: string): boolean {
  if (/^\/(?!\/)[\x21-\x7e]*$/.test(s)) return true
  return URL.canParse(s) && new URL(s).protocol === 'https:' && !/[\s"'()\\]/.test(s)
}

function isOrigin(s: string): boolean {
  return URL.canParse(s) && /^https?:$/.test(new URL(s).protocol) && new URL(s).origin === s
}

function parseTrustProxy(s: string | undefined): false | number | string[] | undefined {
  if (s === undefined) return false
  if (/^\d+$/.test(s)) return Number(s)
  const entries = s.split(',').map(x => x.trim()).filter(Boolean)
  const valid = entries.length > 0 && entries.every(x => {
    const [addr, bits, extra] = x.split('/')
    const family = isIP(addr ?? '')
    if (family === 0 || extra !== undefined) return false
    return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
  })
  return valid ? entries : undefined
}
