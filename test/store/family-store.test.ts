import t from 'tap'
import { RACE_WINDOW_MS, type FamilyRecord, type RotateArgs } from '../../src/store/family-ports.js'
import { openTestStore, storeKinds, testPrefix } from '../helpers/backends.js'
import { keysWithoutTtl } from '../helpers/redis-keys.js'

const adapters = storeKinds()

const T0 = Date.now()
const DAY = 86_400_000
let n = 0
const family = (over: Partial<FamilyRecord> = {}): FamilyRecord => ({
  familyId: `fam${String(++n).padStart(19, '0')}`, userId: 'u1', clientId: 'app', clientGeneration: 'g1', scope: ['openid', 'read'],
  authTimeSec: Math.floor(T0 / 1000), createdAtMs: T0, absoluteExpiresAtMs: T0 + 30 * DAY, ...over,
})
const rotation = (f: FamilyRecord, presented: string, next: string, over: Partial<RotateArgs> = {}): RotateArgs => ({
  familyId: f.familyId, presentedHash: presented, nextHash: next, clientId: f.clientId, nowMs: T0 + 10_000,
  idleTtlMs: 14 * DAY, graceMs: 0, successorSealed: '', retainMs: 60_000, ...over,
})

for (const kind of adapters) {
  t.test(kind, async t => {
    const prefix = testPrefix()
    const store = await openTestStore(t, kind, prefix)

    t.test('rotation swaps the head; the old token then counts as reuse and revokes the family', async t => {
      const f = family()
      await store.createFamily(f, 'h0', T0, 14 * DAY)
      t.same(await store.rotateRefreshToken(rotation(f, 'h0', 'h1')), { outcome: 'rotated', family: f })
      t.same(await store.findFamilyOfToken(f.familyId, 'h1', T0 + 10_000), { family: f, current: true })
      t.same(await store.findFamilyOfToken(f.familyId, 'h0', T0 + 10_000), { family: f, current: false })
      const late = T0 + 10_000 + RACE_WINDOW_MS + 1
      t.same(await store.rotateRefreshToken(rotation(f, 'h0', 'hx', { nowMs: late })), { outcome: 'reused', family: f })
      t.equal(await store.isFamilyRevoked(f.familyId, late), true)
      t.same(await store.rotateRefreshToken(rotation(f, 'h1', 'h2', { nowMs: late })), { outcome: 'invalid' }, 'the newest token died too')
      t.equal(await store.findFamilyOfToken(f.familyId, 'h1', late), null)
    })

    t.test('a duplicate right after rotation is a race, not reuse; the successor keeps working', async t => {
      const f = family()
      await store.createFamily(f, 'h0', T0, 14 * DAY)
      await store.rotateRefreshToken(rotation(f, 'h0', 'h1'))
      t.same(await store.rotateRefreshToken(rotation(f, 'h0', 'hx', { nowMs: T0 + 10_500 })), { outcome: 'race' })
      t.equal((await store.rotateRefreshToken(rotation(f, 'h1', 'h2', { nowMs: T0 + 11_000 }))).outcome, 'rotated')
    })

    t.test('inside the grace window the same sealed successor comes back', async t => {
      const f = family()
      await store.createFamily(f, 'h0', T0, 14 * DAY)
      await store.rotateRefreshToken(rotation(f, 'h0', 'h1', { graceMs: 5000, successorSealed: 'sealed-h1' }))
      t.same(await store.rotateRefreshToken(rotation(f, 'h0', 'hx', { graceMs: 5000, nowMs: T0 + 14_000 })),
        { outcome: 'grace', family: f, successorSealed: 'sealed-h1' })
      t.same(await store.findFamilyOfToken(f.familyId, 'h1', T0 + 14_000), { family: f, current: true }, 'no second branch')
    })

    t.test('concurrent rotations of one token: exactly one succeeds', async t => {
      const f = family()
      await store.createFamily(f, 'h0', T0, 14 * DAY)
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.rotateRefreshToken(rotation(f, 'h0', `n${i}`))))
      t.equal(results.filter(r => r.outcome === 'rotated').length, 1)
      t.equal(results.filter(r => r.outcome === 'race').length, 49)
      t.equal(await store.isFamilyRevoked(f.familyId, T0 + 10_000), false)
    })

    t.test('another client, an unknown hash or family: invalid, and nothing changes', async t => {
      const f = family()
      await store.createFamily(f, 'h0', T0, 14 * DAY)
      t.same(await store.rotateRefreshToken(rotation(f, 'h0', 'h1', { clientId: 'evil' })), { outcome: 'invalid' })
      t.same(await store.rotateRefreshToken(rotation(f, 'nope', 'h1')), { outcome: 'invalid' })
      t.same(await store.rotateRefreshToken(rotation(family(), 'h0', 'h1')), { outcome: 'invalid' })
      t.equal((await store.rotateRefreshToken(rotation(f, 'h0', 'h1'))).outcome, 'rotated')
    })

    t.test('idle and absolute expiry follow the caller clock', async t => {
      const f = family({ absoluteExpiresAtMs: T0 + 10 * DAY })
      await store.createFamily(f, 'h0', T0, 2 * DAY)
      t.same(await store.rotateRefreshToken(rotation(f, 'h0', 'h1', { nowMs: T0 + 2 * DAY })), { outcome: 'invalid' }, 'idle')
      const g = family({ absoluteExpiresAtMs: T0 + 3 * DAY })
      await store.createFamily(g, 'g0', T0, 2 * DAY)
      let now = T0
      for (let i = 0; i < 2; i++) {
        now += DAY
        t.equal((await store.rotateRefreshToken(rotation(g, `g${i}`, `g${i + 1}`, { nowMs: now, idleTtlMs: 2 * DAY }))).outcome, 'rotated', 'use keeps it alive')
      }
      t.same(await store.rotateRefreshToken(rotation(g, 'g2', 'g3', { nowMs: T0 + 3 * DAY, idleTtlMs: 2 * DAY })), { outcome: 'invalid' }, 'absolute')
    })

    t.test('revoking a family, a user, an access token', async t => {
      const f = family({ userId: 'u-revoke' })
      const g = family({ userId: 'u-revoke' })
      await store.createFamily(f, 'f0', T0, DAY)
      await store.createFamily(g, 'g0', T0, DAY)
      t.same(new Set(await store.familiesOfUser('u-revoke', T0)), new Set([f.familyId, g.familyId]))
      t.same(await store.revokeFamily(f.familyId, T0, 60_000), f)
      t.equal(await store.revokeFamily('unknown-family-id-000', T0, 60_000), null)
      t.equal(await store.isFamilyRevoked(f.familyId, T0), true)
      t.equal(await store.isFamilyRevoked(g.familyId, T0), false)
      t.equal(await store.userRevokedAtMs('u-revoke', T0), null)
      await store.markUserRevoked('u-revoke', T0 + 5, 60_000)
      t.equal(await store.userRevokedAtMs('u-revoke', T0 + 10), T0 + 5)
      t.equal(await store.isAccessTokenDenied('jti-1', T0), false)
      await store.denyAccessToken('jti-1', T0 + 60_000, T0)
      t.equal(await store.isAccessTokenDenied('jti-1', T0 + 1), true)
      await store.denyAccessToken('jti-expired', T0 - 1, T0)
      t.equal(await store.isAccessTokenDenied('jti-expired', T0), false, 'an expired token needs no entry')
    })

    if (kind === 'redis') {
      t.test('issue 12: readRevocations reads the three lists and the generation marker in one step, as the single reads do', async t => {
        // Its own prefix: the generation marker it sets never expires (by design).
        const own = await openTestStore(t, kind)
        const read = own.readRevocations!
        const f = family({ userId: 'u-snapshot' })
        await own.createFamily(f, 's0', T0, DAY)
        t.same(await read({ jti: 'jti-snap', sid: f.familyId, sub: 'u-snapshot' }, T0),
          { denied: false, familyRevoked: false, userRevokedAtMs: null, marker: null })
        await own.denyAccessToken('jti-snap', T0 + 60_000, T0)
        await own.revokeFamily(f.familyId, T0, 60_000)
        await own.markUserRevoked('u-snapshot', T0 + 5, 60_000)
        const marker = await own.swapGenerationMarker(null, 'gen-snapshot')
        t.equal(marker, 'gen-snapshot')
        t.same(await read({ jti: 'jti-snap', sid: f.familyId, sub: 'u-snapshot' }, T0 + 10),
          { denied: true, familyRevoked: true, userRevokedAtMs: T0 + 5, marker })
        t.same(await read({ jti: 'jti-other', sub: 'u-other' }, T0 + 10),
          { denied: false, familyRevoked: false, userRevokedAtMs: null, marker }, 'no sid: no family read')
      })

      /** The failures of a slot window, read without taking a slot (a limit of 0 refuses, changing nothing). */
      const failuresIn = async (key: string, nowMs: number) => {
        const verdict = await store.takeAttemptSlot(key, nowMs, 60, 0)
        return verdict.allowed ? NaN : verdict.failures
      }

      t.test('issue 12: rotateRefreshTokenInIpSlot: slots full of failures refuse before rotating; only a refused token counts', async t => {
        const rotateInSlot = store.rotateRefreshTokenInIpSlot!
        t.ok(rotateInSlot, 'standalone Redis has the combined step')
        const slot = { key: 'ip:fast', nowMs: T0 + 10_000, windowSec: 60, limit: 2 }
        const f = family()
        await store.createFamily(f, 'h0', T0, 14 * DAY)
        for (const [presented, next] of [['h0', 'h1'], ['h1', 'h2'], ['h2', 'h3']] as const) {
          t.same(await rotateInSlot(slot, rotation(f, presented, next)), { outcome: 'rotated', family: f }, `${presented} rotated`)
        }
        t.same(await store.takeAttemptSlot(slot.key, slot.nowMs, 60, 1), { allowed: true },
          'successes leave the slots as they were: none is taken, so none stays in flight')
        await store.endAttempt(slot.key, slot.nowMs, 60, false)

        t.same(await rotateInSlot(slot, rotation(f, 'unknown', 'hx')), { outcome: 'invalid' }, 'an unknown token is refused')
        t.equal(await failuresIn(slot.key, slot.nowMs), 1, '... and counts one failure')
        t.same(await rotateInSlot(slot, rotation(f, 'h2', 'hy')), { outcome: 'race' }, 'a race is refused')
        t.equal(await failuresIn(slot.key, slot.nowMs), 2, '... and counts one failure')

        t.same(await rotateInSlot(slot, rotation(f, 'h3', 'h4')), { outcome: 'throttled', failures: 2 }, 'failures fill the limit: refused')
        t.same(await store.findFamilyOfToken(f.familyId, 'h3', slot.nowMs), { family: f, current: true }, 'the token was not spent')
        t.equal(await failuresIn(slot.key, slot.nowMs), 2, 'a refusal counts nothing')
        t.same(await rotateInSlot({ ...slot, limit: 3 }, rotation(f, 'h3', 'h4')), { outcome: 'rotated', family: f },
          'the limit is the caller\'s')
        const later = { ...slot, nowMs: T0 + 70_000 }
        t.same(await rotateInSlot(later, rotation(f, 'h4', 'h5', { nowMs: later.nowMs })), { outcome: 'rotated', family: f },
          'the next window starts empty')
        t.equal(await failuresIn(slot.key, later.nowMs), 0)
      })

      t.test('issue 12: rotateRefreshTokenInIpSlot: attempts in flight fill the slots: refused with their failures, nothing done', async t => {
        const slot = { key: 'ip:busy', nowMs: T0 + 10_000, windowSec: 60, limit: 2 }
        const f = family()
        await store.createFamily(f, 'h0', T0, 14 * DAY)
        await store.takeAttemptSlot(slot.key, slot.nowMs, 60, 2)
        await store.takeAttemptSlot(slot.key, slot.nowMs, 60, 2)
        t.same(await store.rotateRefreshTokenInIpSlot!(slot, rotation(f, 'h0', 'h1')), { outcome: 'throttled', failures: 0 })
        t.same(await store.findFamilyOfToken(f.familyId, 'h0', slot.nowMs), { family: f, current: true }, 'the token was not spent')
        await store.endAttempt(slot.key, slot.nowMs, 60, true)
        t.same(await store.rotateRefreshTokenInIpSlot!(slot, rotation(f, 'h0', 'h1')), { outcome: 'throttled', failures: 1 },
          'one failure and one in flight fill a limit of 2')
        t.same(await store.rotateRefreshTokenInIpSlot!({ ...slot, limit: 3 }, rotation(f, 'old', 'h1')), { outcome: 'invalid' })
        t.equal(await failuresIn(slot.key, slot.nowMs), 2, 'the refused token counted; the slot in flight is still held')
      })

      t.test('after 1,000 families every key has a TTL', async t => {
        for (let i = 0; i < 1000; i++) {
          const f = family({ userId: `bulk-${i % 50}` })
          await store.createFamily(f, `b${i}`, T0, DAY)
          if (i % 3 === 0) await store.rotateRefreshToken(rotation(f, `b${i}`, `c${i}`, { graceMs: 5000, successorSealed: 's' }))
          if (i % 7 === 0) await store.revokeFamily(f.familyId, T0, 60_000)
          if (i % 11 === 0) await store.denyAccessToken(`bulk-jti-${i}`, T0 + 60_000, T0)
          if (i % 13 === 0) await store.rotateRefreshTokenInIpSlot!({ key: `ip:bulk-${i}`, nowMs: T0, windowSec: 60, limit: 5 }, rotation(f, 'nope', 'x'))
        }
        await store.markUserRevoked('bulk-1', T0, 60_000)
        const { seen, immortal } = await keysWithoutTtl(`${prefix}*`)
        t.ok(seen > 1000, `${seen} keys scanned`)
        t.same(immortal, [], 'no key without a TTL')
      })
    }
  })
}
