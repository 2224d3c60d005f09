import type { FastifyInstance } from 'fastify'
import { InvalidRequest } from '../errors.js'

/**
 * JSON bodies for every route: Fastify's own parser (secure-json-parse: `__proto__` and
 * `constructor` keys are refused), plus one value per name (RFC 6749 §3.2, as for forms): an
 * object with a repeated key is `invalid_request`, where JSON.parse would keep the last value.
 * An empty body means "no parameters".
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string
    if (text === '') return done(null, undefined)
    parseJson(req, text, (err, value) => {
      if (err) return done(err)
      const repeated = findRepeatedKey(text)
      if (repeated !== undefined) return done(new InvalidRequest(`parameter ${JSON.stringify(repeated)} is repeated`))
      done(null, value)
    })
  })
}

/**
 * The first key that appears twice in one object of `json` (compared after unescaping, so
 * "a" and "\u0061" are one key), or undefined. `json` must be valid JSON (parse it first).
 * Iterative, so no nesting depth can overflow the stack. Pure; never throws on valid JSON.
 */
export function findRepeatedKey(json: string): string | undefined {
  // One entry per open object (its keys so far) or array (null).
  const open: Array<Set<string> | null> = []
  let expectingKey = false
  for (let i = 0; i < json.length; i++) {
    const c = json[i]
    if (c === '"') {
      const end = closingQuote(json, i)
      const keys = open.at(-1)
      if (keys && expectingKey) {
        const key = JSON.parse(json.slice(i, end + 1)) as string
        if (keys.has(key)) return key
        keys.add(key)
        expectingKey = false
      }
      i = end
    } else if (c === '{') {
      open.push(new Set())
      expectingKey = true
    } else if (c === '[') {
      open.push(null)
    } else if (c === '}' || c === ']') {
      open.pop()
    } else if (c === ',') {
      expectingKey = open.at(-1) instanceof Set
    }
  }
  return undefined
}

/** Index of the quote that closes the string opening at `start`. */
function closingQuote(json: string, start: number): number {
  for (let i = start + 1; i < json.length; i++) {
    if (json[i] === '\\') i++
    else if (json[i] === '"') return i
  }
  return json.length
}
