import { randomBytes } from 'node:crypto'
import t from 'tap'
import { Conflict, NotFound } from '../../src/errors.js'
import { createKek } from '../../src/keys/kek.js'
import { KeyRing } from '../../src/keys/key-ring.js'
import { revokeKey, rotateKeys, runKeyMaintenance } from '../../src/keys/key-rotation.js'
import { backends } from '../helpers/backends.js'
import { buildTestApp } from '../helpers/app.js'

const states = async (s: Awaited<ReturnType<typeof buildTestApp>>['services'], alg = 'ES256') =>
  (await s.keys.repo.listAll()).filter(k => k.alg === alg).map(k => k.state).sort()

for (const backend of backends()) {
  t.test(backend.name, async t => {
    t.test('an empty database gets a current and a next key per algorithm at once', async t => {
      const { services } = await buildTestApp(t, backend)
      t.same(await states(services, 'ES256'), ['current', 'next'])
      t.same(await states(services, 'RS256'), ['current', 'next'])
      t.ok(services.ring.signingKey('ES256'))
      t.ok(services.ring.signingKey('RS256'))
      t.equal(JSON.parse(services.ring.jwks().body).keys.length, 4)
    })

    t.test('a next key younger than KEY_LEAD_TIME may not sign unless forced', async t => {
      const { services, clock } = await buildTestApp(t, backend)
      clock.advance((services.config.keyLeadTimeSec - 1) * 1000)
      await t.rejects(rotateKeys(services.keys, 'ES256'), Conflict)
      const before = (await services.keys.repo.listPublished()).find(k => k.alg === 'ES256' && k.state === 'next')!
      const forced = await rotateKeys(services.keys, 'ES256', { force: true })
      t.equal(forced.current.kid, before.kid)
      t.equal(forced.current.state, 'current')
    })

    t.test('rotation: next → current, current → retiring, a fresh next', async t => {
      const { services, clock } = await buildTestApp(t, backend)
      const keys = await services.keys.repo.listPublished()
      const current = keys.find(k => k.alg === 'ES256' && k.state === 'current')!
      const next = keys.find(k => k.alg === 'ES256' && k.state === 'next')!
      clock.advance(services.config.keyLeadTimeSec * 1000)
      const r = await rotateKeys(services.keys, 'ES256')
      t.equal(r.current.kid, next.kid)
      t.equal(r.retiring.kid, current.kid)
      t.not(r.next.kid, next.kid)
      t.equal(r.retiring.retireAfter!.getTime(), clock.now() + (900 + 60) * 1000, 'max token TTL + clock skew')
      t.same(await states(services, 'RS256'), ['current', 'next'], 'other algorithms are untouched')
      await services.ring.reload()
      t.equal(services.ring.signingKey('ES256')!.kid, next.kid)
      const published = JSON.parse(services.ring.jwks('ES256').body).keys.map((k: { kid: string }) => k.kid)
      t.same(new Set(published), new Set([current.kid, next.kid, r.next.kid]), 'the retiring key is still published')
    })

    t.test('a retiring key leaves the JWKS when every token it signed has expired, and its private half is erased', async t => {
      const { services, clock } = await buildTestApp(t, backend)
      await services.clients.repo.create({
        clientId: 'long', secretHash: null, tokenEndpointAuthMethod: 'client_secret_basic', grantTypes: ['client_credentials'],
        scopes: [], audience: [], signingAlg: null, accessTokenTtlSec: 3600, tokenProfile: 'rfc9068', generation: 'g1',
        redirectUris: [], postLogoutRedirectUris: [], consent: 'first_party',
      })
      clock.advance(services.config.keyLeadTimeSec * 1000)
      const { retiring } = await rotateKeys(services.keys, 'ES256')
      t.equal(retiring.retireAfter!.getTime(), clock.now() + (3600 + 60) * 1000, 'the longest client TTL counts')
      clock.advance((3600 + 60) * 1000 - 1)
      await runKeyMaintenance(services.keys)
      t.equal((await services.keys.repo.listAll()).find(k => k.kid === retiring.kid)!.state, 'retiring')
      clock.advance(1)
      await runKeyMaintenance(services.keys)
      await services.ring.reload()
      const row = (await services.keys.repo.listAll()).find(k => k.kid === retiring.kid)!
      t.equal(row.state, 'retired')
      t.ok(row.retiredAt)
      const raw = await services.db.prisma.signingKey.findUnique({ where: { kid: retiring.kid } })
      t.equal(raw!.privateKeyEnc, null, 'private material erased')
      t.notOk(services.ring.verificationKey(retiring.kid))
      t.notMatch(services.ring.jwks().body, retiring.kid)
    })

    t.test('revoking the current key promotes the next one at once and makes a new next', async t => {
      const { services } = await buildTestApp(t, backend)
      const keys = await services.keys.repo.listPublished()
      const current = keys.find(k => k.alg === 'RS256' && k.state === 'current')!
      const next = keys.find(k => k.alg === 'RS256' && k.state === 'next')!
      const revoked = await revokeKey(services.keys, current.kid)
      t.equal(revoked.state, 'revoked')
      await services.ring.reload()
      t.equal(services.ring.signingKey('RS256')!.kid, next.kid)
      t.notOk(services.ring.verificationKey(current.kid))
      t.notMatch(services.ring.jwks().body, current.kid)
      t.same(await states(services, 'RS256'), ['current', 'next', 'revoked'])
      await t.rejects(revokeKey(services.keys, current.kid), NotFound, 'twice is not found')
      await t.rejects(revokeKey(services.keys, 'no-such-kid'), NotFound)
    })

    t.test('automatic rotation happens once per KEY_ROTATION_INTERVAL', async t => {
      const { services, clock } = await buildTestApp(t, backend, { config: { keyRotationIntervalSec: 3600 } })
      const first = services.ring.signingKey('ES256')!.kid
      clock.advance(3599 * 1000)
      await runKeyMaintenance(services.keys)
      t.same(await states(services), ['current', 'next'], 'not yet due')
      clock.advance(1000)
      await Promise.all([runKeyMaintenance(services.keys), runKeyMaintenance(services.keys)])
      await runKeyMaintenance(services.keys)
      t.same(await states(services), ['current', 'next', 'retiring'], 'rotated exactly once')
      t.same(await states(services, 'RS256'), ['current', 'next', 'retiring'])
      await services.ring.reload()
      t.not(services.ring.signingKey('ES256')!.kid, first)
    })

    t.test('concurrent manual rotations: exactly one wins', async t => {
      const { services, clock } = await buildTestApp(t, backend)
      clock.advance(services.config.keyLeadTimeSec * 1000)
      const results = await Promise.allSettled([rotateKeys(services.keys, 'ES256'), rotateKeys(services.keys, 'ES256')])
      t.equal(results.filter(r => r.status === 'fulfilled').length, 1)
      const failed = results.find(r => r.status === 'rejected') as PromiseRejectedResult
      t.type(failed.reason, Conflict)
      t.same(await states(services), ['current', 'next', 'retiring'])
    })

    t.test('the database row holds no private key in plain text', async t => {
      const { services } = await buildTestApp(t, backend)
      const rows = await services.db.prisma.$queryRaw<Array<{ kid: string; public_jwk: Record<string, unknown>; private_key_enc: Uint8Array }>>`
        SELECT kid, public_jwk, private_key_enc FROM signing_keys WHERE state = 'current'`
      t.equal(rows.length, 2)
      for (const row of rows) {
        for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) t.notOk(member in row.public_jwk, `no ${member} in public_jwk`)
        const sealed = Buffer.from(row.private_key_enc)
        const plain = JSON.parse(services.kek.open(sealed, row.kid).toString()) as { d: string }
        t.type(plain.d, 'string', 'the KEK opens it')
        t.equal(sealed.includes(plain.d), false, 'd does not appear in the stored bytes')
        t.equal(sealed.includes(Buffer.from(plain.d, 'base64url')), false, 'nor do its raw bytes')
        t.equal(sealed.toString('latin1').includes('"d"'), false)
      }
    })

    t.test('a wrong KEK refuses to load the signing keys instead of signing with something else', async t => {
      const { services } = await buildTestApp(t, backend)
      const ring = new KeyRing(services.keys.repo, createKek(randomBytes(32)))
      await t.rejects(ring.reload(), /cannot decrypt signing key .*SIGIL_KEK/)
    })
  })
}
