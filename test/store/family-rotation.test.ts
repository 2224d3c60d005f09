import t from 'tap'
import { RACE_WINDOW_MS, type RotateArgs } from '../../src/store/family-ports.js'
import { decideRotation, type RotationState } from '../../src/store/family-rotation.js'

// issue 15: the memory adapter's rotation is a pure function, tested here on its own.
const NOW = 1_000_000
const family: RotationState = {
  record: { clientId: 'app', absoluteExpiresAtMs: NOW + 3_600_000 },
  head: 'h2', prev: 'h1', rotatedAtMs: NOW - 500, used: new Set(['h0', 'h1']),
  successor: { sealed: 'sealed-h2', untilMs: NOW + 500 },
  idleExpiresAtMs: NOW + 60_000, revoked: false,
}
const args = (over: Partial<RotateArgs> = {}): RotateArgs => ({
  familyId: 'f', presentedHash: 'h2', nextHash: 'h3', clientId: 'app', nowMs: NOW,
  idleTtlMs: 120_000, graceMs: 1000, successorSealed: 'sealed-h3', retainMs: 900_000, ...over,
})

t.test('issue 15: the head rotates: the next head, the old one used, the idle expiry moved, the successor kept for the grace', async t => {
  const d = decideRotation(family, args())
  t.equal(d.outcome, 'rotated')
  if (d.outcome !== 'rotated') return
  t.match(d.next, { head: 'h3', prev: 'h2', rotatedAtMs: NOW, idleExpiresAtMs: NOW + 120_000, successor: { sealed: 'sealed-h3', untilMs: NOW + 1000 }, revoked: false })
  t.same([...d.next.used].sort(), ['h0', 'h1', 'h2'])
  t.same([...family.used].sort(), ['h0', 'h1'], 'the state given is not changed')
  t.equal(family.head, 'h2')
})

t.test('issue 15: the idle expiry never passes the absolute one; no grace keeps no successor', async t => {
  const d = decideRotation(family, args({ idleTtlMs: 10_000_000, graceMs: 0 }))
  if (d.outcome !== 'rotated') return t.fail(d.outcome)
  t.equal(d.next.idleExpiresAtMs, family.record.absoluteExpiresAtMs)
  t.equal(d.next.successor, undefined)
})

t.test('issue 15: the token just replaced, within the grace: the same successor again, nothing changes', async t => {
  t.same(decideRotation(family, args({ presentedHash: 'h1' })), { outcome: 'grace', successorSealed: 'sealed-h2' })
})

t.test('issue 15: the token just replaced, after the grace but within the race window: race, the family kept', async t => {
  t.same(decideRotation(family, args({ presentedHash: 'h1', graceMs: 0 })), { outcome: 'race' })
  const late = decideRotation(family, args({ presentedHash: 'h1', graceMs: 0, nowMs: NOW - 500 + RACE_WINDOW_MS + 1 }))
  t.equal(late.outcome, 'reused', 'past the race window it is reuse')
})

t.test('issue 15: an older rotated token is reuse: the family is revoked and its successor dropped', async t => {
  const d = decideRotation(family, args({ presentedHash: 'h0' }))
  t.equal(d.outcome, 'reused')
  if (d.outcome !== 'reused') return
  t.equal(d.next.revoked, true)
  t.equal(d.next.successor, undefined)
  t.equal(family.revoked, false, 'the state given is not changed')
})

for (const c of [
  { name: 'an unknown token', state: family, over: { presentedHash: 'nope' }, outcome: 'invalid' },
  { name: 'another client', state: family, over: { clientId: 'other' }, outcome: 'invalid' },
  { name: 'an idle family', state: family, over: { nowMs: family.idleExpiresAtMs }, outcome: 'expired' },
  { name: 'a family past its absolute expiry', state: { ...family, idleExpiresAtMs: NOW + 7_200_000 }, over: { nowMs: family.record.absoluteExpiresAtMs }, outcome: 'expired' },
  { name: 'a revoked family, even its head', state: { ...family, revoked: true }, over: {}, outcome: 'revoked' },
]) {
  t.test(`issue 15: ${c.name} is ${c.outcome} and changes nothing`, async t => {
    t.same(decideRotation(c.state, args(c.over)), { outcome: c.outcome })
  })
}
