import { IssuerUnavailable } from './errors.js'

export interface IssuerHttp {
  fetch: typeof globalThis.fetch
  timeoutMs: number
}

/**
 * One request to the issuer, with a timeout. Network failures and timeouts become
 * {@link IssuerUnavailable}; any HTTP status is returned for the caller to judge.
 */
export async function requestIssuer(http: IssuerHttp, url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await http.fetch(url, { ...init, signal: AbortSignal.timeout(http.timeoutMs) })
  } catch (cause) {
    throw new IssuerUnavailable(`${init.method ?? 'GET'} ${url} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause })
  }
}

/** The body of a 200 answer as a JSON object; anything else is {@link IssuerUnavailable}. */
export async function readJsonObject(res: Response, what: string): Promise<Record<string, unknown>> {
  if (res.status !== 200) {
    await res.body?.cancel()
    throw new IssuerUnavailable(`${what}: HTTP ${res.status}`)
  }
  let body: unknown
  try {
    body = await res.json()
  } catch (cause) {
    throw new IssuerUnavailable(`${what}: body is not JSON`, { cause })
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new IssuerUnavailable(`${what}: body is not a JSON object`)
  return body as Record<string, unknown>
}

/** Bounds on how long a JWKS is fresh: below 1 s every burst refetches, above a day a rotation is missed. */
const MIN_FRESH_MS = 1_000
const MAX_FRESH_MS = 86_400_000
/** Without max-age, the 300 s that stock PyJWT and simplejwt use. */
const DEFAULT_FRESH_MS = 300_000

/**
 * RFC 9111 §4.2.1 freshness of a response: `max-age` less `Age`, clamped to [1 s, 1 day];
 * `no-store`/`no-cache` count as 0 (so 1 s); no directive at all means 300 s.
 */
export function freshnessMs(headers: Headers): number {
  const cacheControl = headers.get('cache-control') ?? ''
  let ms = DEFAULT_FRESH_MS
  if (/(?:^|,)\s*no-(?:store|cache)\b/i.test(cacheControl)) ms = 0
  else {
    const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl)
    if (maxAge) ms = Number(maxAge[1]) * 1000 - ageMs(headers)
  }
  return Math.min(MAX_FRESH_MS, Math.max(MIN_FRESH_MS, ms))
}

function ageMs(headers: Headers): number {
  const age = Number(headers.get('age') ?? 0)
  return Number.isFinite(age) && age > 0 ? age * 1000 : 0
}
