import { createHmac, KeyObject, randomBytes } from 'node:crypto'
import { decodeProtectedHeader, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose'
import t from 'tap'
import {
  AlgorithmNotAllowed, BadSignature, createVerifier, InsufficientScope, MalformedToken, MissingClaim, TokenExpired,
  TokenNotYetValid, UnknownKey, WrongAudience, WrongIssuer, WrongTokenType, type Verifier,
} from '../../src/verify/index.js'
import { backends } from '../helpers/backends.js'
import { fixedClock } from '../helpers/clock.js'
import { makeKey, startFakeIssuer } from '../helpers/fake-issuer.js'
import { accessClaims, signWithIssuerKey } from '../helpers/forge.js'
import { startTestServer } from '../helpers/server.js'
import { countRequests, sigilHttp } from '../helpers/sigil-http.js'
import { codeOf } from '../helpers/verify-errors.js'

const AUDIENCE = 'https://api.example'
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
/** A compact JWS from parts, for tokens no library would sign. */
const compact = (header: object, payload: object | string, signature: Buffer | string) =>
  `${b64(header)}.${typeof payload === 'string' ? payload : b64(payload)}.${typeof signature === 'string' ? signature : signature.toString('base64url')}`

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, services, issuer } = await startTestServer(t, backend)
    const jwksHits = countRequests(app, '/.well-known/jwks.json')
    const sigil = sigilHttp(issuer)
    const client = { client_id: 'orders', client_secret: 'orders-secret-0123456789-0123456789-abcdef' }
    await sigil.createClient({ ...client, scopes: ['orders:read'], audience: AUDIENCE })
    const other = { client_id: 'billing', client_secret: 'billing-secret-0123456789-0123456789-abcdef' }
    await sigil.createClient({ ...other, scopes: ['orders:read'], audience: 'https://billing.example' })
    const real = await sigil.token(client)
    const [realHeader, realPayload] = real.split('.') as [string, string, string]
    const esKid = services.ring.signingKey('ES256')!.kid
    const rsKid = services.ring.signingKey('RS256')!.kid
    const jwks = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: JWK[] }
    const publicPem = async (kid: string) => {
      const jwk = jwks.keys.find(k => k.kid === kid)!
      return KeyObject.from(await importJWK(jwk, jwk.alg) as CryptoKey).export({ type: 'spki', format: 'pem' }) as string
    }
    const attacker = await makeKey('ES256', 'attacker')
    const attackerRsa = await makeKey('RS256', 'attacker-rsa')
    const attackerServer = await startFakeIssuer(t)
    const signAttacker = (header: object, claims = accessClaims(issuer), key = attacker) =>
      new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ: 'at+jwt', ...header }).sign(key.privateKey)
    const hs256 = async (kid: string) => {
      const header = { alg: 'HS256', typ: 'at+jwt', kid }
      const input = `${b64(header)}.${b64(accessClaims(issuer))}`
      return `${input}.${createHmac('sha256', await publicPem(kid)).update(input).digest('base64url')}`
    }
    const verifier = createVerifier({ issuer, audience: AUDIENCE, cooldownMs: 60_000, requiredScopes: ['orders:read'] })
    t.equal((await verifier.verify(real)).client_id, 'orders', 'a real token passes')

    const now = Math.floor(Date.now() / 1000)
    const cases: Array<{ name: string; token: () => Promise<string>; code: string; verifier?: Verifier }> = [
      { name: 'alg none', code: AlgorithmNotAllowed.code, token: async () => compact({ alg: 'none', typ: 'at+jwt', kid: esKid }, accessClaims(issuer), '') },
      { name: 'alg None, oddly cased', code: AlgorithmNotAllowed.code, token: async () => compact({ alg: 'None', typ: 'at+jwt', kid: esKid }, accessClaims(issuer), '') },
      { name: 'HS256 keyed with the ES256 public key PEM (algorithm confusion)', code: AlgorithmNotAllowed.code, token: () => hs256(esKid) },
      { name: 'HS256 keyed with the RS256 public key PEM (algorithm confusion)', code: AlgorithmNotAllowed.code, token: () => hs256(rsKid) },
      { name: 'an EC key\'s kid with alg RS256', code: AlgorithmNotAllowed.code, token: () => signAttacker({ kid: esKid }, accessClaims(issuer), attackerRsa) },
      { name: 'an RSA key\'s kid with alg ES256', code: AlgorithmNotAllowed.code, token: () => signAttacker({ kid: rsKid }) },
      { name: 'PS256, not in the allow-list', code: AlgorithmNotAllowed.code, token: async () => compact({ alg: 'PS256', typ: 'at+jwt', kid: rsKid }, accessClaims(issuer), randomBytes(256)) },
      { name: 'an ES256 token where only RS256 is accepted', code: AlgorithmNotAllowed.code, token: async () => real, verifier: createVerifier({ issuer, audience: AUDIENCE, algorithms: ['RS256'] }) },
      { name: 'jku to an attacker JWKS, attacker kid', code: UnknownKey.code, token: () => signAttacker({ kid: attacker.kid, jku: `${attackerServer.issuer}/jwks` }) },
      { name: 'jku to an attacker JWKS, issuer kid', code: BadSignature.code, token: () => signAttacker({ kid: esKid, jku: `${attackerServer.issuer}/jwks` }) },
      { name: 'x5u to an attacker URL', code: UnknownKey.code, token: () => signAttacker({ kid: attacker.kid, x5u: `${attackerServer.issuer}/cert.pem` }) },
      { name: 'embedded jwk, attacker kid', code: UnknownKey.code, token: () => signAttacker({ kid: attacker.kid, jwk: attacker.publicJwk }) },
      { name: 'embedded jwk, issuer kid', code: BadSignature.code, token: () => signAttacker({ kid: esKid, jwk: attacker.publicJwk }) },
      { name: 'embedded jwk and no kid', code: UnknownKey.code, token: () => signAttacker({ jwk: attacker.publicJwk }) },
      { name: 'x5c chain, issuer kid', code: BadSignature.code, token: () => signAttacker({ kid: esKid, x5c: [randomBytes(300).toString('base64')] }) },
      { name: 'ECDSA r = s = 0 (psychic signature)', code: BadSignature.code, token: async () => `${realHeader}.${realPayload}.${Buffer.alloc(64).toString('base64url')}` },
      { name: 'payload altered after signing', code: BadSignature.code, token: async () => `${realHeader}.${b64({ ...JSON.parse(Buffer.from(realPayload, 'base64url').toString()), scope: 'orders:read admin' })}.${real.split('.')[2]}` },
      { name: 'signature stripped', code: BadSignature.code, token: async () => `${realHeader}.${realPayload}.` },
      { name: 'unknown kid', code: UnknownKey.code, token: () => signAttacker({ kid: 'no-such-kid' }) },
      { name: 'expired beyond the leeway', code: TokenExpired.code, token: () => signWithIssuerKey(services, 'ES256', { claims: { exp: now - 31, iat: now - 600 } }) },
      { name: 'nbf beyond the leeway', code: TokenNotYetValid.code, token: () => signWithIssuerKey(services, 'ES256', { claims: { nbf: now + 120 } }) },
      { name: 'iat in the future beyond the leeway', code: TokenNotYetValid.code, token: () => signWithIssuerKey(services, 'ES256', { claims: { iat: now + 120, exp: now + 600 } }) },
      { name: 'another issuer', code: WrongIssuer.code, token: () => signWithIssuerKey(services, 'RS256', { claims: { iss: 'https://evil.example' } }) },
      { name: 'another audience (a real token of another client)', code: WrongAudience.code, token: () => sigil.token(other) },
      { name: 'an ID token (typ JWT)', code: WrongTokenType.code, token: () => signWithIssuerKey(services, 'ES256', { header: { typ: 'JWT' }, claims: { aud: 'orders' } }) },
      { name: 'no typ at all', code: WrongTokenType.code, token: () => signWithIssuerKey(services, 'ES256', { header: { typ: undefined } }) },
      { name: 'no client_id', code: MissingClaim.code, token: () => signWithIssuerKey(services, 'ES256', { claims: { client_id: undefined } }) },
      { name: 'no jti', code: MissingClaim.code, token: () => signWithIssuerKey(services, 'RS256', { claims: { jti: undefined } }) },
      { name: 'sub not a string', code: MalformedToken.code, token: () => signWithIssuerKey(services, 'ES256', { claims: { sub: 42 } }) },
      { name: 'lacks a required scope', code: InsufficientScope.code, token: () => signWithIssuerKey(services, 'ES256', { claims: { scope: 'orders:write' } }) },
      { name: 'two segments', code: MalformedToken.code, token: async () => `${realHeader}.${realPayload}` },
      { name: 'header is not JSON', code: MalformedToken.code, token: async () => `${b64('{"alg":')}.${realPayload}.${real.split('.')[2]}` },
      { name: 'not a JWT at all', code: MalformedToken.code, token: async () => 'Bearer' },
      { name: 'a megabyte of token', code: MalformedToken.code, token: async () => 'a'.repeat(1 << 20) },
    ]
    for (const c of cases) {
      t.test(`refused: ${c.name}`, async t => {
        t.equal(await codeOf((c.verifier ?? verifier).verify(await c.token())), c.code)
      })
    }
    t.test('the leeway (30 s) accepts a token that expired 10 s ago', async t => {
      const token = await signWithIssuerKey(services, 'ES256', { claims: { exp: now - 10, iat: now - 600 } })
      t.equal((await verifier.verify(token)).sub, 'user-1')
      t.equal(await codeOf(createVerifier({ issuer, audience: AUDIENCE, leewaySec: 0 }).verify(token)), TokenExpired.code, 'and leewaySec: 0 does not')
    })
    t.test('jku and x5u are never fetched', async t => {
      t.equal(attackerServer.hits.jwks + attackerServer.hits.discovery, 0)
    })

    t.test('a flood of 200 forged kids costs the issuer at most one JWKS fetch per cool-down', async t => {
      const flood = () => Promise.all(Array.from({ length: 200 }, async () => codeOf(v.verify(
        compact({ alg: 'ES256', typ: 'at+jwt', kid: randomBytes(16).toString('hex') }, accessClaims(issuer), randomBytes(64))))))
      const clock = fixedClock()
      const v = createVerifier({ issuer, audience: AUDIENCE, cooldownMs: 1_500, clock })
      const before = jwksHits.total()
      await v.verify(real)
      t.equal(jwksHits.total() - before, 1, 'warming fetches once')
      t.same(new Set(await flood()), new Set([UnknownKey.code]), '200 concurrent forged kids are UnknownKey')
      t.equal(jwksHits.total() - before, 1, 'no refetch: the set was fetched less than a cool-down ago')
      clock.advance(1_600)
      t.same(new Set(await flood()), new Set([UnknownKey.code]), '200 more after the cool-down')
      t.same(new Set(await flood()), new Set([UnknownKey.code]), 'and 200 more')
      t.equal(jwksHits.total() - before, 2, 'one refetch for 400 unknown kids inside the next cool-down')
      t.equal(decodeProtectedHeader(real).kid, esKid)
      t.equal((await v.verify(real)).sub, 'orders', 'the real key still verifies throughout')
    })
  })
}
