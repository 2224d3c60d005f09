import type { FastifyInstance } from 'fastify'
import t from 'tap'
import {
  adminRequest, adminToken, basic, createUser, login, PASSWORD, postToken, refresh, registerLoginClients, WEB_SECRET,
} from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { fixedClock } from '../helpers/clock.js'
import { buildTestApps } from '../helpers/instances.js'

const SKEW_MS = 30_000
const TTL_SEC = 600
const IDLE_SEC = 900
const LEAD_SEC = 120

const introspect = async (app: FastifyInstance, token: string) => {
  const r = await app.inject({
    method: 'POST', url: '/oauth2/introspect', payload: new URLSearchParams({ token }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('web', WEB_SECRET) },
  })
  if (r.statusCode !== 200) throw new Error(`introspect: ${r.statusCode} ${r.body}`)
  return r.json().active as boolean
}

for (const backend of backends()) {
  t.test(`${backend.name}: two instances whose clocks are 30 s apart`, async t => {
    const slow = fixedClock()
    const fast = fixedClock(slow.now() + SKEW_MS)
    const [a, b] = await buildTestApps(t, backend, 2, {
      clocks: [slow, fast], config: { accessTokenTtlSec: TTL_SEC, refreshIdleTtlSec: IDLE_SEC, keyLeadTimeSec: LEAD_SEC, jwksMaxAgeSec: 60 },
    })
    const A = a!.app
    const B = b!.app
    const advance = (ms: number) => { slow.advance(ms); fast.advance(ms) }
    await registerLoginClients(A)
    const app = { client_id: 'app', token_endpoint_auth_method: 'none', grant_types: ['password', 'refresh_token'], scopes: ['openid', 'read'] }
    t.equal((await adminRequest(A, 'POST', '/admin/clients', app)).statusCode, 201)
    await createUser(A, { username: 'alice', password: PASSWORD })

    t.test('issue 14: rotation lead time is counted on the rotating instance\'s clock, so skew shortens it by at most the skew', async t => {
      const keys = await A.inject({ method: 'GET', url: '/admin/keys', headers: { authorization: `Bearer ${await adminToken(A)}` } })
      const next = (keys.json().keys as Array<{ state: string; alg: string; created_at?: string; createdAt?: string }>)
        .find(k => k.state === 'next' && k.alg === 'ES256')
      t.ok(next, 'a next ES256 key is published')
      // First, before any other test moves the clocks; wind both clocks to LEAD - SKEW - 1 s after the slow clock made the key.
      const createdMs = Date.parse(String(next!.created_at ?? next!.createdAt))
      const windMs = createdMs + (LEAD_SEC * 1000 - SKEW_MS - 1000) - slow.now()
      t.ok(windMs > 0, 'the clocks only move forward')
      advance(windMs)
      const rotate = async (app: FastifyInstance) => app.inject({
        method: 'POST', url: '/admin/keys/rotate', headers: { authorization: `Bearer ${await adminToken(app)}` }, payload: { alg: 'ES256' },
      })
      t.equal((await rotate(B)).statusCode, 409, 'the fast instance refuses one second before LEAD - skew')
      advance(1000)
      const done = await rotate(B)
      t.equal(done.statusCode, 200, 'the fast instance rotates at LEAD - skew: still more than JWKS_MAX_AGE after publication')
      t.ok(LEAD_SEC * 1000 - SKEW_MS >= 60_000, 'LEAD - skew ≥ JWKS_MAX_AGE: caches had the key')
      await a!.services.ring.reload()
      const token = await login(B, 'spa', { username: 'alice', password: PASSWORD })
      t.equal(token.statusCode, 200)
      const header = JSON.parse(Buffer.from((token.json().access_token as string).split('.')[0]!, 'base64url').toString()) as { kid: string }
      t.equal(header.kid, done.json().current.kid, 'signed with the newly current key')
      t.equal(await introspect(A, token.json().access_token), true, 'verified by the slow instance')
    })

    t.test('issue 14: an access token from either instance is active at the other, and inactive at both once expired', async t => {
      for (const [issuer, other, name] of [[A, B, 'slow → fast'], [B, A, 'fast → slow']] as const) {
        const r = await login(issuer, 'spa', { username: 'alice', password: PASSWORD })
        t.equal(r.statusCode, 200, `${name}: login`)
        const token = r.json().access_token as string
        t.equal(await introspect(other, token), true, `${name}: active at the other instance at once`)
        advance(TTL_SEC * 1000 - SKEW_MS - 1000)
        t.equal(await introspect(issuer, token), true, `${name}: active at the issuer just before expiry`)
        t.equal(await introspect(other, token), true, `${name}: active at the other just before expiry`)
        advance(SKEW_MS + 62_000 + SKEW_MS)
        t.equal(await introspect(issuer, token), false, `${name}: inactive at the issuer past expiry and leeway`)
        t.equal(await introspect(other, token), false, `${name}: inactive at the other past expiry and leeway`)
      }
    })

    t.test('issue 14: a family refreshes alternately on both instances; reuse of a token rotated on the other is caught', async t => {
      const first = await postToken(A, { grant_type: 'password', client_id: 'app', username: 'alice', password: PASSWORD })
      t.equal(first.statusCode, 200)
      const r0 = first.json().refresh_token as string
      const r1 = await refresh(B, r0)
      t.equal(r1.statusCode, 200, 'refresh on the fast instance of a token from the slow one')
      advance(5000)
      const r2 = await refresh(A, r1.json().refresh_token)
      t.equal(r2.statusCode, 200, 'and back on the slow instance')
      t.equal(await introspect(B, r2.json().access_token), true, 'the new access token is active on the other')
      advance(5000)
      const reuse = await refresh(B, r0)
      t.equal(reuse.statusCode, 400)
      t.equal(reuse.json().error, 'invalid_grant')
      const after = await refresh(A, r2.json().refresh_token)
      t.equal(after.statusCode, 400, 'the reuse seen on one instance ended the family on the other')
    })

    t.test('issue 14: the idle window holds across the skew: idle IDLE - skew - 1 s refreshes on either instance, IDLE + skew + 1 s on neither', async t => {
      for (const [first, second, name] of [[A, B, 'slow then fast'], [B, A, 'fast then slow']] as const) {
        const start = await postToken(first, { grant_type: 'password', client_id: 'app', username: 'alice', password: PASSWORD })
        t.equal(start.statusCode, 200)
        advance(IDLE_SEC * 1000 - SKEW_MS - 1000)
        const kept = await refresh(second, start.json().refresh_token)
        t.equal(kept.statusCode, 200, `${name}: idle IDLE - skew - 1 s by the starting clock: refreshes`)
        advance(IDLE_SEC * 1000 + SKEW_MS + 1000)
        for (const app of [A, B]) {
          const late = await refresh(app, kept.json().refresh_token)
          t.equal(late.statusCode, 400, `${name}: idle IDLE + skew + 1 s: refused`)
          t.equal(late.json().error, 'invalid_grant')
        }
      }
    })
  })
}
