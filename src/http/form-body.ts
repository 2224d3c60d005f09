import { InvalidRequest } from '../errors.js'

/**
 * Strict application/x-www-form-urlencoded parsing for @fastify/formbody: a malformed percent
 * escape is a 400 `invalid_request`, not silently kept. A repeated name yields an array, which
 * the token endpoint then refuses (RFC 6749 §3.2).
 */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null)
  for (const pair of text.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const name = decode(eq < 0 ? pair : pair.slice(0, eq))
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1))
    const prior = out[name]
    out[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value]
  }
  return out
}

function decode(s: string): string {
  // Most values (tokens, ids, grant types) have nothing to decode: no regex, no decoder run.
  if (!s.includes('%') && !s.includes('+')) return s
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    throw new InvalidRequest('malformed form encoding')
  }
}

/**
 * Flattens a form or JSON body into single string values. RFC 6749 §3.2: parameters must
 * not repeat, and every value is a string. Throws {@link InvalidRequest}.
 */
export function readParams(body: unknown): Record<string, string | undefined> {
  if (body === undefined || body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequest('the body must be a set of parameters')
  const params: Record<string, string> = {}
  for (const [name, value] of Object.entries(body)) {
    if (Array.isArray(value)) throw new InvalidRequest(`parameter ${name} is repeated`)
    if (typeof value !== 'string') throw new InvalidRequest(`parameter ${name} must be a string`)
    params[name] = value
  }
  return params
}
