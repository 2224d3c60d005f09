import fc from 'fast-check'
import type { FastifyInstance, InjectOptions } from 'fastify'
import t from 'tap'
import {
  ADMIN, adminRequest, adminToken, basic, buildTestApp, createUser, PASSWORD, postToken, registerLoginClients, WEB_SECRET,
} from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

/** Cases per endpoint group; FUZZ_RUNS raises it for a longer run. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 200)
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED)

/** Field names the endpoints read, so that arbitrary values reach the code behind the parser. */
const FIELDS = ['grant_type', 'client_id', 'client_secret', 'scope', 'username', 'password', 'refresh_token', 'code', 'redirect_uri',
  'code_verifier', 'token', 'token_type_hint', 'response_type', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt',
  'max_age', 'login_hint', 'id_token_hint', 'token_endpoint_auth_method', 'grant_types', 'scopes', 'redirect_uris', 'signing_alg',
  'access_token_ttl', 'email', 'claims', 'users', 'resource', 'audience']
const KNOWN_VALUES = ['client_credentials', 'password', 'refresh_token', 'authorization_code', 'web', 'spa', 'admin', 'openid', 'code',
  'S256', 'plain', 'access_token', 'none', 'client_secret_basic', 'RS256', 'ES256', 'https://app.example/cb', WEB_SECRET]

const SVC_SECRET = 'svc-client-secret-0123456789-0123456789-abcdef'
const REDIRECT_URI = 'https://app.example/cb'

const huge = fc.integer({ min: 1_000, max: 80_000 }).map(n => 'x'.repeat(n))
/** Arbitrary text: unicode, lone surrogates, NUL and control characters, huge values, well-known words. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.constantFrom(...KNOWN_VALUES) },
  { weight: 1, arbitrary: fc.constantFrom('', '\u0000', 'a\u0000b', '%', '%zz', '+', '=', '&', '[]', '__proto__', 'constructor', '\uD800', '\uFFFF', '💥'.repeat(50)) },
  { weight: 1, arbitrary: huge },
)
const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: text })
/** Form pairs, keys may repeat. */
const pairs = fc.array(fc.tuple(key, text), { maxLength: 8 })
const jsonLeaf = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null))
const jsonValue = fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 4 }), fc.dictionary(key, jsonLeaf, { maxKeys: 4 }))

const CONTENT_TYPES = ['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded; charset=utf-16', 'application/json; charset=latin1', 'application/xml', '*/*', 'application/',
  'application/x-www-form-urlencoded, application/json']

/** A header value HTTP can carry: visible latin1, space and tab (Node refuses the rest before Sigil sees it). */
const fieldValue = fc.oneof(
  fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(9)).map(c => String.fromCharCode(c)), maxLength: 60 }),
  fc.integer({ min: 100, max: 20_000 }).map(n => 'A'.repeat(n)),
)
/** Lone surrogates become U+FFFD (encodeURIComponent throws on them). */
const wellFormed = (s: string) => Buffer.from(s).toString()
const base64Of = (s: string) => Buffer.from(s).toString('base64')

interface Body { contentType?: string; payload?: string }
const body: fc.Arbitrary<Body> = fc.oneof(
  pairs.map(p => ({ contentType: 'application/x-www-form-urlencoded', payload: new URLSearchParams(p).toString() })),
  pairs.map(p => ({ contentType: 'application/x-www-form-urlencoded', payload: p.map(([k, v]) => `${k}=${v}`).join('&') })),
  fc.dictionary(key, jsonValue, { maxKeys: 8 }).map(o => ({ contentType: 'application/json', payload: JSON.stringify(o) })),
  jsonValue.map(v => ({ contentType: 'application/json', payload: JSON.stringify(v) ?? '' })),
  fc.tuple(fc.oneof(fc.constantFrom(...CONTENT_TYPES), fieldValue), fc.oneof(text, pairs.map(p => new URLSearchParams(p).toString())))
    .map(([contentType, payload]) => ({ contentType, payload })),
  text.map(payload => ({ payload })),
  fc.constant({}),
)

/** Client credentials in every shape: none, Basic over arbitrary id and secret, broken Basic, bearer. */
const authorization = (bearer: string | undefined) => fc.oneof(
  fc.constant(undefined),
  fc.tuple(text, text).map(([id, secret]) => basic(wellFormed(id), wellFormed(secret)).authorization),
  fc.tuple(text, text).map(([id, secret]) => 'Basic ' + base64Of(`${id}:${secret}`)),
  text.map(s => 'Basic ' + base64Of(s)),
  fieldValue.map(s => 'Basic ' + s),
  fc.constant(basic('web', WEB_SECRET).authorization),
  fc.constant(basic('svc', SVC_SECRET).authorization),
  fieldValue.map(s => 'Bearer ' + s),
  fieldValue,
  ...(bearer ? [fc.constant(`Bearer ${bearer}`)] : []),
)
const extraHeaders = fc.dictionary(
  fc.oneof(fc.constantFrom('accept', 'accept-language', 'x-forwarded-for', 'origin', 'cookie', 'content-length', 'transfer-encoding',
    'dpop', 'host', 'content-encoding', 'x-request-id'), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)),
  fieldValue, { maxKeys: 4 })

interface Case { method: InjectOptions['method']; url: string; body: Body; authorization?: string; headers: Record<string, string>; remoteAddress: string }

const pathSegment = fc.oneof(fc.constantFrom('web', 'spa', 'nope', '', '..'), text.map(s => encodeURIComponent(wellFormed(s.slice(0, 200)))))

/** A valid request's fields with arbitrary ones set over or added to them, so that the fuzz reaches past the first check. */
function nearValid(bases: Array<Record<string, string>>): fc.Arbitrary<URLSearchParams> {
  return fc.tuple(fc.constantFrom(...bases), pairs, fc.boolean()).map(([base, extra, append]) => {
    const p = new URLSearchParams(base)
    for (const [k, v] of extra) {
      if (append) p.append(k, v)
      else p.set(k, v)
    }
    return p
  })
}
const nearValidBody = (bases: Array<Record<string, string>>): fc.Arbitrary<Body> => nearValid(bases).chain(p => fc.constantFrom(
  { contentType: 'application/x-www-form-urlencoded', payload: p.toString() },
  { contentType: 'application/json', payload: JSON.stringify(Object.fromEntries(p)) },
))

function endpointCases(bearer: string, admin: boolean, target: fc.Arbitrary<Pick<Case, 'method' | 'url'>>, bases: Array<Record<string, string>>): fc.Arbitrary<Case> {
  const bodies = bases.length === 0 ? body : fc.oneof(body, nearValidBody(bases))
  // The admin group mostly carries the valid admin token, so that its bodies reach the admin code.
  const auth = admin ? fc.oneof({ weight: 4, arbitrary: fc.constant(`Bearer ${bearer}`) }, { weight: 1, arbitrary: authorization(bearer) }) : authorization(bearer)
  return fc.record({ target, body: bodies, authorization: auth, headers: extraHeaders, remoteAddress: fc.oneof(fc.ipV4(), fc.ipV6()) })
    .map(({ target, body, authorization, headers, remoteAddress }) => ({ ...target, body, headers, remoteAddress, ...(authorization === undefined ? {} : { authorization }) }))
}

function send(app: FastifyInstance, c: Case) {
  const headers: Record<string, string> = { ...c.headers }
  delete headers['content-length']
  delete headers['transfer-encoding']
  delete headers.host
  if (c.body.contentType !== undefined) headers['content-type'] = c.body.contentType
  if (c.authorization !== undefined) headers.authorization = c.authorization
  return app.inject({ method: c.method, url: c.url, headers, remoteAddress: c.remoteAddress, ...(c.body.payload === undefined || c.method === 'GET' ? {} : { payload: c.body.payload }) })
}

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app } = await buildTestApp(t, backend)
    await registerLoginClients(app)
    const bearer = await adminToken(app)
    for (const payload of [
      { client_id: 'svc', client_secret: SVC_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], scopes: ['read'] },
      { client_id: 'code', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirect_uris: [REDIRECT_URI] },
    ]) t.equal((await adminRequest(app, 'POST', '/admin/clients', payload)).statusCode, 201)
    await createUser(app, { username: 'alice', password: PASSWORD })
    const login = await postToken(app, { grant_type: 'password', client_id: 'spa', username: 'alice', password: PASSWORD, scope: 'openid read' })
    t.equal(login.statusCode, 200)
    const { access_token: accessToken, refresh_token: refreshToken } = login.json() as { access_token: string; refresh_token: string }
    const tokenBases: Array<Record<string, string>> = [
      { grant_type: 'password', client_id: 'spa', username: 'alice', password: PASSWORD, scope: 'openid read' },
      { grant_type: 'client_credentials', scope: 'read' },
      { grant_type: 'refresh_token', client_id: 'spa', refresh_token: refreshToken },
      { grant_type: 'authorization_code', client_id: 'code', code: 'x', redirect_uri: REDIRECT_URI, code_verifier: 'v'.repeat(43) },
    ]
    const tokenUseBases: Array<Record<string, string>> = [{ token: accessToken }, { token: refreshToken, token_type_hint: 'refresh_token' }, { token: accessToken, client_id: 'spa' }]
    const authorizeBases = [{
      response_type: 'code', client_id: 'code', redirect_uri: REDIRECT_URI, scope: 'openid read', state: 's',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    }]
    let tried = 0
    let fivexx = 0

    const query = fc.oneof(pairs.map(p => new URLSearchParams(p)), nearValid(authorizeBases)).map(p => p.size === 0 ? '' : `?${p.toString()}`)
    const groups: Array<{ name: string; html?: boolean; admin?: boolean; bases?: Array<Record<string, string>>; target: fc.Arbitrary<Pick<Case, 'method' | 'url'>> }> = [
      { name: 'POST /oauth2/token', bases: tokenBases, target: fc.constant({ method: 'POST' as const, url: '/oauth2/token' }) },
      { name: 'POST /oauth2/revoke', bases: tokenUseBases, target: fc.constant({ method: 'POST' as const, url: '/oauth2/revoke' }) },
      { name: 'POST /oauth2/introspect', bases: tokenUseBases, target: fc.constant({ method: 'POST' as const, url: '/oauth2/introspect' }) },
      {
        name: 'GET and POST /oauth2/authorize', html: true, bases: authorizeBases,
        target: fc.tuple(fc.constantFrom('GET' as const, 'POST' as const), query).map(([method, q]) => ({ method, url: `/oauth2/authorize${q}` })),
      },
      {
        name: 'admin endpoints with a valid admin token', admin: true,
        bases: [
          { client_id: 'fz', token_endpoint_auth_method: 'none', grant_types: 'password', scopes: 'read' },
          { username: 'bob', password: PASSWORD, email: 'bob@example.com' },
        ],
        target: fc.oneof(
          fc.constantFrom(
            { method: 'GET' as const, url: '/admin/clients' }, { method: 'POST' as const, url: '/admin/clients' },
            { method: 'GET' as const, url: '/admin/keys' }, { method: 'POST' as const, url: '/admin/users' },
            { method: 'POST' as const, url: '/admin/users/import' },
          ),
          fc.tuple(fc.constantFrom('GET' as const, 'PATCH' as const, 'DELETE' as const), pathSegment)
            .map(([method, id]) => ({ method, url: `/admin/clients/${id}` })),
          fc.tuple(pathSegment, pathSegment).chain(([id, client]) => fc.constantFrom(
            { method: 'DELETE' as const, url: `/admin/users/${id}` },
            { method: 'POST' as const, url: `/admin/users/${id}/revoke-tokens` },
            { method: 'DELETE' as const, url: `/admin/users/${id}/consents/${client}` },
            { method: 'POST' as const, url: `/admin/keys/${id}/revoke` },
          )),
        ).filter(target => !/\/admin\/clients\/admin$/.test(target.url)),
      },
    ]

    for (const group of groups) {
      t.test(`issue 14: ${group.name} over arbitrary forms, JSON, headers and Basic credentials never answers 5xx`, async t => {
        let cases = 0
        const failures: string[] = []
        const statuses = new Map<number, number>()
        await fc.assert(fc.asyncProperty(endpointCases(bearer, group.admin === true, group.target, group.bases ?? []), async c => {
          cases++
          const r = await send(app, c)
          statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1)
          if (r.statusCode >= 500) fivexx++
          if (r.statusCode >= 500) failures.push(`${r.statusCode} ${r.body.slice(0, 200)}`)
          if (r.statusCode >= 500) return false
          if (r.statusCode < 300) return true
          const type = String(r.headers['content-type'] ?? '')
          if (group.html && (r.statusCode < 400 || type.startsWith('text/html'))) return r.body === '' || type !== ''
          if (!type.startsWith('application/json')) return false
          const answer = r.json() as Record<string, unknown>
          return typeof answer.error === 'string' && typeof answer.error_description === 'string'
        }), { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) })
        tried += cases
        const spread = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(' ')
        t.comment(`${group.name}: ${cases} cases tried, ${failures.length} answers 5xx (statuses ${spread})`)
        t.same(failures, [])
      })
    }

    t.test('issue 14: after the fuzz run the service still answers normal requests', async t => {
      t.comment(`${backend.name}: ${tried} cases tried in all, ${fivexx} answers 5xx`)
      t.equal(fivexx, 0)
      const token = await postToken(app, { grant_type: 'client_credentials' }, basic(ADMIN.clientId, ADMIN.clientSecret))
      t.equal(token.statusCode, 200)
      const keys = await app.inject({ method: 'GET', url: '/admin/keys', headers: { authorization: `Bearer ${token.json().access_token}` } })
      t.equal(keys.statusCode, 200)
      t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
    })
  })
}
