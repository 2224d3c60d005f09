import t, { type Test } from 'tap'
import { BadSignature, createVerifier, IssuerUnavailable, TokenRevoked, type VerifierOptions } from '../../src/verify/index.js'
import { backends } from '../helpers/backends.js'
import { fixedClock } from '../helpers/clock.js'
import { startFakeIssuer } from '../helpers/fake-issuer.js'
import { startTestServer } from '../helpers/server.js'
import { sigilHttp } from '../helpers/sigil-http.js'
import { codeOf } from '../helpers/verify-errors.js'
import { basicAuthorization } from '../helpers/app.js'

const AUDIENCE = 'https://api.example'

async function setup(t: Test, introspection: Partial<NonNullable<VerifierOptions['introspection']>> = {}) {
  const issuer = await startFakeIssuer(t)
  const clock = fixedClock()
  const verifier = createVerifier({
    issuer: issuer.issuer, audience: AUDIENCE, clock, cooldownMs: 1_000,
    introspection: { ...issuer.introspectionClient, cacheTtlMs: 5_000, ...introspection },
  })
  const sec = Math.floor(clock.now() / 1000)
  const token = () => issuer.sign({ claims: { iat: sec, exp: sec + 60 } })
  return { issuer, clock, verifier, token }
}

t.test('an active token passes, and the answer is reused for cacheTtlMs', async t => {
  const { issuer, clock, verifier, token } = await setup(t)
  const tk = await token()
  await verifier.verify(tk)
  clock.advance(4_999)
  await verifier.verify(tk)
  t.equal(issuer.hits.introspect, 1, 'client_secret_basic accepted (form-encoded id and secret), answer cached')
  clock.advance(1)
  await verifier.verify(tk)
  t.equal(issuer.hits.introspect, 2, 'asked again after the TTL')
})

t.test('active:false is TokenRevoked, and stays so until exp without asking again', async t => {
  const { issuer, clock, verifier, token } = await setup(t)
  const tk = await token()
  await verifier.verify(tk)
  issuer.revoke(tk)
  clock.advance(5_000)
  t.equal(await codeOf(verifier.verify(tk)), TokenRevoked.code)
  clock.advance(50_000)
  t.equal(await codeOf(verifier.verify(tk)), TokenRevoked.code)
  t.equal(issuer.hits.introspect, 2)
})

t.test('the issuer is asked only about tokens that verified locally', async t => {
  const { issuer, verifier, token } = await setup(t)
  const [h, p] = (await token()).split('.')
  t.equal(await codeOf(verifier.verify(`${h}.${p}.${Buffer.alloc(64).toString('base64url')}`)), BadSignature.code)
  t.equal(issuer.hits.introspect, 0)
})

t.test('concurrent checks of one token share one request', async t => {
  const { issuer, verifier, token } = await setup(t)
  const tk = await token()
  await Promise.all(Array.from({ length: 20 }, () => verifier.verify(tk)))
  t.equal(issuer.hits.introspect, 1)
})

for (const c of [
  { name: 'the endpoint answers 500', arrange: (i: Awaited<ReturnType<typeof setup>>) => { i.issuer.state.mode = 'error' } },
  { name: 'our credentials are refused (401)', arrange: () => {}, introspection: { clientSecret: 'wrong' } },
]) {
  t.test(`fails closed when ${c.name}: IssuerUnavailable`, async t => {
    const s = await setup(t, c.introspection)
    const tk = await s.token()
    await s.verifier.verify(tk).catch(() => {})
    c.arrange(s)
    s.clock.advance(5_000)
    t.equal(await codeOf(s.verifier.verify(tk)), IssuerUnavailable.code)
  })
}

for (const backend of backends()) {
  t.test(`the real Sigil (${backend.name})`, async t => {
    const { issuer } = await startTestServer(t, backend)
    const missing = async (path: string) => (await fetch(`${issuer}${path}`, { method: 'POST' })).status === 404
    const skip = await missing('/oauth2/introspect') ? 'POST /oauth2/introspect is not on the server yet'
      : await missing('/oauth2/revoke') ? 'POST /oauth2/revoke is not on the server yet' : false
    t.test('a live token is active there; once revoked, it is refused here', { skip }, async t => {
      const sigil = sigilHttp(issuer)
      const api = { client_id: 'orders-api', client_secret: 'orders-api-secret-0123456789-0123456789' }
      const caller = { client_id: 'orders-caller', client_secret: 'orders-caller-secret-0123456789-0123456789' }
      await sigil.createClient({ ...api, audience: AUDIENCE })
      await sigil.createClient({ ...caller, scopes: ['orders:read'], audience: AUDIENCE })
      const verifier = createVerifier({ issuer, audience: AUDIENCE, introspection: { clientId: api.client_id, clientSecret: api.client_secret, cacheTtlMs: 0 } })
      const token = await sigil.token(caller)
      t.equal((await verifier.verify(token)).client_id, caller.client_id, 'active at the real introspection endpoint')
      const revoked = await fetch(`${issuer}/oauth2/revoke`, {
        method: 'POST', body: new URLSearchParams({ token }),
        headers: { authorization: basicAuthorization(caller.client_id, caller.client_secret) },
      })
      t.equal(revoked.status, 200)
      t.equal(await codeOf(verifier.verify(token)), TokenRevoked.code, 'revoked at the issuer: refused here')
    })
  })
}
