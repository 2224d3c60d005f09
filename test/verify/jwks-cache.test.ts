import t, { type Test } from 'tap'
import { createVerifier, IssuerUnavailable, UnknownKey, type VerifierOptions } from '../../src/verify/index.js'
import { fixedClock } from '../helpers/clock.js'
import { makeKey, startFakeIssuer, type FakeIssuer } from '../helpers/fake-issuer.js'
import { codeOf } from '../helpers/verify-errors.js'

const AUDIENCE = 'https://api.example'

async function setup(t: Test, opts: Partial<VerifierOptions> = {}) {
  const issuer = await startFakeIssuer(t)
  const clock = fixedClock()
  const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, clock, cooldownMs: 10_000, ...opts })
  const sec = () => Math.floor(clock.now() / 1000)
  /** A token valid at the fake clock's time. */
  const token = (o: Parameters<FakeIssuer['sign']>[0] = {}) => issuer.sign({ ...o, claims: { iat: sec(), exp: sec() + 300, ...o.claims } })
  return { issuer, clock, verifier, token }
}

t.test('the JWKS is reused for its max-age, then revalidated with If-None-Match', async t => {
  const { issuer, clock, verifier, token } = await setup(t)
  issuer.state.cacheControl = 'public, max-age=60'
  await verifier.verify(await token())
  clock.advance(59_000)
  await verifier.verify(await token({ alg: 'RS256' }))
  t.equal(issuer.hits.jwks, 1, 'fresh for 60 s')
  clock.advance(2_000)
  await verifier.verify(await token())
  t.same([issuer.hits.jwks, issuer.hits.jwks304], [2, 1], 'then one conditional request, answered 304')
  clock.advance(59_000)
  await verifier.verify(await token())
  t.equal(issuer.hits.jwks, 2, 'a 304 renews the freshness')
  t.equal(issuer.hits.discovery, 1, 'discovery is read once')
})

for (const c of [
  { cacheControl: undefined, freshSec: 300 },
  { cacheControl: 'no-cache', freshSec: 1 },
  { cacheControl: 'max-age=999999999', freshSec: 86_400 },
]) {
  t.test(`Cache-Control ${String(c.cacheControl)} keeps the set ${c.freshSec} s`, async t => {
    const { issuer, clock, verifier, token } = await setup(t)
    issuer.state.cacheControl = c.cacheControl
    await verifier.verify(await token())
    clock.advance(c.freshSec * 1000 - 1)
    await verifier.verify(await token())
    t.equal(issuer.hits.jwks, 1)
    clock.advance(1)
    await verifier.verify(await token())
    t.equal(issuer.hits.jwks, 2)
  })
}

for (const mode of ['error', 'down', 'hang'] as const) {
  t.test(`issuer ${mode}: the expired set keeps serving (stale-if-error), retried once per cool-down`, async t => {
    const { issuer, clock, verifier, token } = await setup(t, { staleIfErrorMs: 600_000, timeoutMs: 200 })
    issuer.state.cacheControl = 'max-age=60'
    await verifier.verify(await token())
    issuer.state.mode = mode
    clock.advance(61_000)
    const before = issuer.hits.all
    t.equal((await verifier.verify(await token())).sub, 'user-1', 'verified from the stale set')
    t.equal(issuer.hits.all - before, 1, 'after one failed refresh')
    clock.advance(5_000)
    await verifier.verify(await token())
    t.equal(issuer.hits.all - before, 1, 'no retry inside the cool-down')
    clock.advance(5_000)
    await verifier.verify(await token())
    t.equal(issuer.hits.all - before, 2, 'one retry after it')
    clock.advance(600_000)
    t.equal(await codeOf(verifier.verify(await token())), IssuerUnavailable.code, 'past stale-if-error: 503, not a guess')
    issuer.state.mode = 'ok'
    clock.advance(10_000)
    t.equal((await verifier.verify(await token())).sub, 'user-1', 'back once the issuer is')
  })
}

t.test('no set yet and the issuer down: IssuerUnavailable, without a request per verification', async t => {
  const { issuer, clock, verifier, token } = await setup(t, { timeoutMs: 200 })
  issuer.state.mode = 'down'
  for (let i = 0; i < 3; i++) t.equal(await codeOf(verifier.verify(await token())), IssuerUnavailable.code)
  t.equal(issuer.hits.all, 1, 'one discovery attempt per cool-down')
  issuer.state.mode = 'ok'
  clock.advance(10_000)
  t.equal((await verifier.verify(await token())).sub, 'user-1')
})

t.test('a timeout is IssuerUnavailable', async t => {
  const { issuer, verifier, token } = await setup(t, { timeoutMs: 100 })
  issuer.state.mode = 'hang'
  t.equal(await codeOf(verifier.verify(await token())), IssuerUnavailable.code)
})

t.test('a discovery document naming another issuer is refused (mix-up)', async t => {
  const { issuer, verifier, token } = await setup(t)
  issuer.state.discoveredIssuer = 'https://evil.example'
  t.equal(await codeOf(verifier.verify(await token())), IssuerUnavailable.code)
  t.equal(issuer.hits.jwks, 0, 'its jwks_uri is never used')
})

t.test('50 concurrent first verifications share one discovery and one JWKS request', async t => {
  const { issuer, verifier, token } = await setup(t)
  const tokens = await Promise.all(Array.from({ length: 50 }, () => token()))
  await Promise.all(tokens.map(tk => verifier.verify(tk)))
  t.same([issuer.hits.discovery, issuer.hits.jwks], [1, 1])
})

t.test('a key that appears is found by one refetch; a key that leaves is unknown once the set expires', async t => {
  const { issuer, clock, verifier, token } = await setup(t)
  await verifier.verify(await token())
  const fresh = await makeKey('ES256', 'es-2')
  issuer.keys.ES256 = fresh
  issuer.state.published = [fresh]
  clock.advance(10_000)
  t.equal((await verifier.verify(await token())).sub, 'user-1', 'unknown kid after the cool-down: one refetch finds it')
  t.equal(issuer.hits.jwks, 2)
  const old = await makeKey('ES256', 'es-1')
  t.equal(await codeOf(verifier.verify(await issuer.sign({ header: { kid: old.kid } }))), UnknownKey.code)
})

t.test('keys a JWKS must not offer are left out: encryption keys, duplicated kids, symmetric keys', async t => {
  const { issuer, clock, verifier, token } = await setup(t)
  const es = issuer.keys.ES256
  issuer.state.published = [
    { ...es, publicJwk: { ...es.publicJwk, use: 'enc' } },
    issuer.keys.RS256, issuer.keys.RS256,
  ]
  t.equal(await codeOf(verifier.verify(await token())), UnknownKey.code, 'use: enc')
  t.equal(await codeOf(verifier.verify(await token({ alg: 'RS256' }))), UnknownKey.code, 'a kid published twice is ambiguous')
  issuer.state.published = [es, { ...es, kid: 'hmac', publicJwk: { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' } }]
  clock.advance(300_000)
  t.equal((await verifier.verify(await token())).sub, 'user-1', 'a set holding a symmetric key still serves its public keys')
})
