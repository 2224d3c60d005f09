import t from 'tap'
import type { AuthorizationCodeRecord, InteractionRecord, LoginSessionRecord } from '../../src/store/login-ports.js'
import { openTestStore, storeKinds, testPrefix } from '../helpers/backends.js'
import { keysWithoutTtl } from '../helpers/redis-keys.js'

const adapters = storeKinds()

const T0 = Date.now()
const HOUR = 3_600_000
let n = 0
const unique = (what: string) => `${what}-${++n}`
const codeRecord = (over: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord => ({
  clientId: 'spa', redirectUri: 'https://app.example/cb', codeChallenge: 'c'.repeat(43), nonce: 'n-1', scope: ['openid'],
  userId: 'u1', authTimeSec: Math.floor(T0 / 1000), loginSessionHash: 'ls', expiresAtMs: T0 + 60_000, ...over,
})
const sessionRecord = (over: Partial<LoginSessionRecord> = {}): LoginSessionRecord => ({
  userId: 'u1', authTimeSec: Math.floor(T0 / 1000), createdAtMs: T0, absoluteExpiresAtMs: T0 + 24 * HOUR, ...over,
})

for (const kind of adapters) {
  t.test(kind, async t => {
    const prefix = testPrefix()
    const store = await openTestStore(t, kind, prefix)

    t.test('issue 10: a code is consumed once; a second use is replayed and returns what the first issued', async t => {
      const hash = unique('code')
      await store.saveAuthorizationCode(hash, codeRecord(), T0)
      t.same(await store.consumeAuthorizationCode(hash, T0 + 1000, HOUR), { outcome: 'consumed', code: codeRecord() })
      const issued = { familyId: 'fam1', jti: 'jti1', accessExpiresAtMs: T0 + 900_000 }
      t.equal(await store.recordCodeExchange(hash, issued), 'recorded')
      t.same(await store.consumeAuthorizationCode(hash, T0 + 2000, HOUR), { outcome: 'replayed', code: codeRecord(), issued })
    })

    t.test('issue 10: a replay between consume and record is reported to the first exchange', async t => {
      const hash = unique('code')
      await store.saveAuthorizationCode(hash, codeRecord(), T0)
      await store.consumeAuthorizationCode(hash, T0 + 1000, HOUR)
      t.same(await store.consumeAuthorizationCode(hash, T0 + 1001, HOUR), { outcome: 'replayed', code: codeRecord() })
      t.equal(await store.recordCodeExchange(hash, { jti: 'j', accessExpiresAtMs: T0 + 1 }), 'replayed')
    })

    t.test('issue 10: concurrent exchanges of one code: exactly one consumes it', async t => {
      const hash = unique('code')
      await store.saveAuthorizationCode(hash, codeRecord(), T0)
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => store.consumeAuthorizationCode(hash, T0 + 1000, HOUR)))
      t.equal(outcomes.filter(o => o.outcome === 'consumed').length, 1)
      t.equal(outcomes.filter(o => o.outcome === 'replayed').length, 9)
    })

    t.test('issue 10: an expired or unknown code is invalid', async t => {
      const hash = unique('code')
      await store.saveAuthorizationCode(hash, codeRecord(), T0)
      t.same(await store.consumeAuthorizationCode(hash, T0 + 60_000, HOUR), { outcome: 'invalid' })
      t.same(await store.consumeAuthorizationCode(unique('nope'), T0, HOUR), { outcome: 'invalid' })
    })

    t.test('issue 10: a login session lives while used, dies when idle or at its absolute expiry', async t => {
      const idle = 10 * 60_000
      const a = unique('sess')
      await store.createLoginSession(a, sessionRecord(), T0, idle)
      t.same(await store.touchLoginSession(a, T0 + idle - 1, idle), sessionRecord(), 'used just before going idle')
      t.same(await store.touchLoginSession(a, T0 + 2 * idle - 2, idle), sessionRecord(), 'the use pushed idle expiry on')
      t.equal(await store.touchLoginSession(a, T0 + 4 * idle, idle), null, 'idle too long')
      const b = unique('sess')
      await store.createLoginSession(b, sessionRecord({ absoluteExpiresAtMs: T0 + idle }), T0, idle)
      t.equal(await store.touchLoginSession(b, T0 + idle, idle), null, 'absolute expiry, however recently used')
    })

    t.test('issue 10: ending a login session returns its families once', async t => {
      const a = unique('sess')
      await store.createLoginSession(a, sessionRecord(), T0, HOUR)
      t.equal(await store.addFamilyToLoginSession(a, 'f1', T0), true)
      await store.addFamilyToLoginSession(a, 'f2', T0)
      const ended = await store.endLoginSession(a, T0 + 1)
      t.same(ended?.session, sessionRecord())
      t.same(ended?.familyIds.sort(), ['f1', 'f2'])
      t.equal(await store.endLoginSession(a, T0 + 2), null)
      t.equal(await store.touchLoginSession(a, T0 + 2, HOUR), null)
      t.equal(await store.addFamilyToLoginSession(a, 'f3', T0 + 2), false, 'no family joins an ended session')
    })

    t.test('issue 10: a user\'s login sessions can be listed (to end them all)', async t => {
      const user = unique('user')
      const [a, b] = [unique('sess'), unique('sess')]
      await store.createLoginSession(a!, sessionRecord({ userId: user }), T0, HOUR)
      await store.createLoginSession(b!, sessionRecord({ userId: user }), T0, HOUR)
      t.same((await store.loginSessionsOfUser(user, T0 + 1)).sort(), [a, b].sort())
      t.same(await store.loginSessionsOfUser(unique('user'), T0 + 1), [])
    })

    t.test('issue 10: interactions expire; consents accumulate until revoked', async t => {
      const id = unique('ix')
      const record: InteractionRecord = {
        request: { clientId: 'spa', redirectUri: 'https://app.example/cb', scope: ['openid'], codeChallenge: 'x', prompt: [] }, csrfHash: 'h',
      }
      await store.saveInteraction(id, record, T0, 600_000)
      t.same(await store.findInteraction(id, T0 + 1), record)
      await store.deleteInteraction(id)
      t.equal(await store.findInteraction(id, T0 + 2), null)
      const user = unique('user')
      await store.rememberConsent(user, 'tp', ['openid', 'profile'], T0, HOUR)
      await store.rememberConsent(user, 'tp', ['email'], T0, HOUR)
      t.same((await store.consentedScopes(user, 'tp', T0 + 1)).sort(), ['email', 'openid', 'profile'])
      t.same(await store.consentedScopes(user, 'other', T0 + 1), [])
      await store.revokeConsent(user, 'tp')
      t.same(await store.consentedScopes(user, 'tp', T0 + 2), [])
    })

    if (kind === 'redis') {
      t.test('issue 10: every login-flow key in Redis has a TTL', async t => {
        const s = unique('sess')
        await store.createLoginSession(s, sessionRecord(), T0, HOUR)
        await store.addFamilyToLoginSession(s, 'f1', T0)
        await store.touchLoginSession(s, T0 + 1, HOUR)
        await store.rememberConsent(unique('user'), 'tp', ['openid'], T0, HOUR)
        await store.saveInteraction(unique('ix'), { request: { clientId: 'a', redirectUri: 'https://a/cb', scope: [], codeChallenge: 'x', prompt: [] }, csrfHash: 'h' }, T0, HOUR)
        const code = unique('code')
        await store.saveAuthorizationCode(code, codeRecord(), T0)
        await store.consumeAuthorizationCode(code, T0 + 1, HOUR)
        await store.recordCodeExchange(code, { jti: 'j', accessExpiresAtMs: T0 + HOUR })
        await store.consumeAuthorizationCode(code, T0 + 2, HOUR)
        const { seen, immortal } = await keysWithoutTtl(`${prefix}*`)
        t.ok(seen > 5)
        t.same(immortal, [])
      })
    }
  })
}
