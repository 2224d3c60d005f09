import t from 'tap'
import * as verify from '../../src/verify/index.js'
import {
  bearerChallenge, createVerifier, extractBearerToken, InsufficientScope, MalformedRequest, TokenExpired, TokenMissing,
  VerifierOptionsError, VerifyError, type VerifierOptions,
} from '../../src/verify/index.js'

type ErrorClass = (new (...args: never[]) => VerifyError) & { code: string }
const classes = (Object.values(verify) as unknown[])
  .filter((v): v is ErrorClass => typeof v === 'function' && v.prototype instanceof VerifyError)
const instance = (C: ErrorClass) => (C as unknown as typeof InsufficientScope) === InsufficientScope
  ? new InsufficientScope(['a'], 'detail')
  : new (C as unknown as new (d: string) => VerifyError)('detail')

t.test('the catalogue: stable unique codes, and status matching the RFC 6750 error', async t => {
  t.ok(classes.length >= 15, `${classes.length} error classes exported`)
  t.equal(new Set(classes.map(C => C.code)).size, classes.length, 'codes are unique')
  const expected = { 400: 'invalid_request', 401: 'invalid_token', 403: 'insufficient_scope', 503: undefined }
  for (const C of classes) {
    const e = instance(C)
    t.equal(e.code, C.code, `${C.name}: instance and static code agree`)
    t.match(e.code, /^ERR_[A-Z_]+$/)
    t.equal(e.name, C.name)
    t.ok(e instanceof Error)
    t.equal(e.bearerError, C === TokenMissing ? undefined : expected[e.status], `${C.name}: ${e.status} ↔ ${String(e.bearerError)}`)
    t.match(e.description, /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/, `${C.name}: description fits error_description (RFC 6750 §3)`)
  }
})

t.test('WWW-Authenticate challenges', async t => {
  for (const c of [
    { err: new TokenMissing('x'), want: 'Bearer realm="api"' },
    { err: new TokenExpired('x'), want: 'Bearer realm="api", error="invalid_token", error_description="the access token has expired"' },
    { err: new MalformedRequest('x'), want: 'Bearer realm="api", error="invalid_request", error_description="the Authorization header is malformed"' },
    { err: new InsufficientScope(['orders:read', 'orders:write'], 'x'), want: 'Bearer realm="api", error="insufficient_scope", error_description="the access token lacks a required scope", scope="orders:read orders:write"' },
    { err: new verify.IssuerUnavailable('x'), want: undefined },
  ]) t.equal(bearerChallenge(c.err, 'api'), c.want, c.err.name)
})

t.test('extractBearerToken', async t => {
  for (const c of [
    { header: undefined, code: TokenMissing.code },
    { header: '', code: TokenMissing.code },
    { header: 'Basic abc', code: TokenMissing.code },
    { header: 'Bearerabc', code: TokenMissing.code },
    { header: 'Bearer', code: MalformedRequest.code },
    { header: 'Bearer a b', code: MalformedRequest.code },
    { header: 'Bearer a,b', code: MalformedRequest.code },
    { header: 'Bearer abc.def-_~+/==', token: 'abc.def-_~+/==' },
    { header: 'bearer   abc ', token: 'abc' },
  ]) {
    try {
      t.equal(extractBearerToken(c.header), c.token, JSON.stringify(c.header))
    } catch (err) {
      t.equal((err as VerifyError).code, c.code, JSON.stringify(c.header))
    }
  }
})

t.test('unsafe or meaningless options are refused at creation', async t => {
  const base: VerifierOptions = { issuer: 'https://issuer.example', audience: 'https://api.example' }
  for (const [name, change] of [
    ['HS256 allowed', { algorithms: ['HS256'] }],
    ['HS512 among others', { algorithms: ['ES256', 'HS512'] }],
    ['none allowed', { algorithms: ['none'] }],
    ['an unknown algorithm', { algorithms: ['RS1'] }],
    ['no algorithm', { algorithms: [] }],
    ['no audience', { audience: [] }],
    ['an empty audience', { audience: '' }],
    ['a non-http issuer', { issuer: 'ftp://issuer.example' }],
    ['a negative leeway', { leewaySec: -1 }],
    ['a scope with a space', { requiredScopes: ['a b'] }],
    ['introspection without a secret', { introspection: { clientId: 'x', clientSecret: '' } }],
  ] as Array<[string, Partial<VerifierOptions>]>) {
    t.throws(() => createVerifier({ ...base, ...change }), { code: VerifierOptionsError.code }, name)
  }
  t.ok(createVerifier({ ...base, algorithms: ['PS256', 'EdDSA'] }), 'asymmetric algorithms are fine')
})
