import { randomBytes, randomUUID } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { InvalidGrant } from '../../src/errors.js'
import { endFamily, endUserFamilies, familyIdOf, hashRefreshToken, rotateRefreshToken, startFamily, type FamilyClient, type FamilyDeps } from '../../src/refresh/refresh-family.js'
import { RACE_WINDOW_MS } from '../../src/store/family-ports.js'
import { buildTestApp, registerLoginClients } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

/** Command sequences per adapter; FUZZ_RUNS raises it. */
const RUNS = Math.max(1, Math.round(Number(process.env.FUZZ_RUNS ?? 200) / 2))
const IDLE_SEC = 3600
const ABSOLUTE_SEC = 4 * 3600

/** The reference model: the tokens issued in order (the last is the current one) and what keeps the family alive. */
interface Model {
  tokens: string[]
  dead: boolean
  idleUntilMs: number
  absoluteUntilMs: number
  rotatedAtMs: number | null
}

interface Real { deps: FamilyDeps; client: FamilyClient; userId: string; advance(ms: number): void; now(): number }

/** The model's view of whether the family is alive at `nowMs` (expiry makes it dead for good). */
function alive(m: Model, nowMs: number): boolean {
  if (!m.dead && (nowMs >= m.idleUntilMs || nowMs >= m.absoluteUntilMs)) m.dead = true
  return !m.dead
}

async function outcome(p: Promise<unknown>): Promise<'ok' | 'invalid_grant'> {
  try {
    await p
    return 'ok'
  } catch (err) {
    if (err instanceof InvalidGrant) return 'invalid_grant'
    throw err
  }
}

/** Checks the store against the model: at most one live token; none once the family is dead; the live one is the model's current. */
async function checkInvariants(m: Model, r: Real): Promise<void> {
  const now = r.now()
  const isAlive = alive(m, now)
  const live: string[] = []
  for (const token of m.tokens) {
    const found = await r.deps.store.findFamilyOfToken(familyIdOf(token)!, hashRefreshToken(token), now)
    if (found?.current) live.push(token)
  }
  if (live.length > 1) throw new Error(`${live.length} live tokens in one family`)
  if (!isAlive && live.length > 0) throw new Error('a token of a dead family is still live')
  if (isAlive && live[0] !== m.tokens.at(-1)) throw new Error('the current token of a live family is not live')
}

class Refresh implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number | 'current') {}
  check = () => true
  async run(m: Model, r: Real): Promise<void> {
    const now = r.now()
    const index = this.pick === 'current' ? m.tokens.length - 1 : this.pick % Math.max(1, m.tokens.length - 1)
    const token = m.tokens[index]!
    const isCurrent = index === m.tokens.length - 1
    let expected: 'ok' | 'invalid_grant' = 'invalid_grant'
    if (alive(m, now)) {
      if (isCurrent) expected = 'ok'
      // The token rotated last, inside the race window, is a concurrent duplicate: refused, the family lives on.
      else if (!(index === m.tokens.length - 2 && m.rotatedAtMs !== null && now - m.rotatedAtMs <= RACE_WINDOW_MS)) m.dead = true
    }
    let next: string | undefined
    const got = await outcome(rotateRefreshToken(r.deps, r.client, token).then(x => { next = x.refreshToken }))
    if (got !== expected) throw new Error(`refresh with ${isCurrent ? 'the current' : `old token #${index}`}: ${got}, model says ${expected}`)
    if (next !== undefined) {
      m.tokens.push(next)
      m.rotatedAtMs = now
      m.idleUntilMs = Math.min(now + IDLE_SEC * 1000, m.absoluteUntilMs)
    }
    await checkInvariants(m, r)
  }
  toString = () => `refresh(${this.pick})`
}

/** Reuse: an old token presented after the race window: the whole family dies. */
class Reuse implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.tokens.length > 1
  async run(m: Model, r: Real): Promise<void> {
    r.advance(RACE_WINDOW_MS + 1)
    const token = m.tokens[this.pick % (m.tokens.length - 1)]!
    alive(m, r.now())
    const got = await outcome(rotateRefreshToken(r.deps, r.client, token))
    if (got !== 'invalid_grant') throw new Error(`reuse of an old token: ${got}`)
    m.dead = true
    await checkInvariants(m, r)
  }
  toString = () => `reuse(${this.pick})`
}

/** A token of this family's id that was never issued: refused, nothing changes. */
class Forged implements fc.AsyncCommand<Model, Real> {
  check = () => true
  async run(m: Model, r: Real): Promise<void> {
    const forged = `${familyIdOf(m.tokens[0]!)}.${randomBytes(32).toString('base64url')}`
    const got = await outcome(rotateRefreshToken(r.deps, r.client, forged))
    if (got !== 'invalid_grant') throw new Error(`forged token: ${got}`)
    await checkInvariants(m, r)
  }
  toString = () => 'forged'
}

class Revoke implements fc.AsyncCommand<Model, Real> {
  check = () => true
  async run(m: Model, r: Real): Promise<void> {
    await endFamily(r.deps, familyIdOf(m.tokens[0]!)!)
    m.dead = true
    await checkInvariants(m, r)
  }
  toString = () => 'revoke'
}

class LogoutEverywhere implements fc.AsyncCommand<Model, Real> {
  check = () => true
  async run(m: Model, r: Real): Promise<void> {
    const ended = await endUserFamilies(r.deps, r.userId)
    const wasAlive = alive(m, r.now())
    // The count also takes in a family revoked earlier and still remembered, so only its bounds are checked.
    if (ended > 1 || (wasAlive && ended !== 1)) throw new Error(`logout everywhere ended ${ended} families, model says ${wasAlive ? 1 : 0}`)
    m.dead = true
    await checkInvariants(m, r)
  }
  toString = () => 'logout-everywhere'
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true
  async run(m: Model, r: Real): Promise<void> {
    r.advance(this.ms)
    await checkInvariants(m, r)
  }
  toString = () => `advance(${this.ms})`
}

/** Refreshing the current token and moving the clock weigh most, so that families live long enough to matter. */
const advance = fc.oneof(
  fc.constantFrom(500, RACE_WINDOW_MS, RACE_WINDOW_MS + 1, 60_000, IDLE_SEC * 1000 - 1, IDLE_SEC * 1000, ABSOLUTE_SEC * 1000),
  fc.integer({ min: 1, max: IDLE_SEC * 1000 + 1000 }),
).map(ms => new Advance(ms))
const commands = [
  ...Array.from({ length: 5 }, () => fc.constant(new Refresh('current'))),
  advance, advance, advance,
  fc.nat(20).map(i => new Refresh(i)),
  fc.nat(20).map(i => new Reuse(i)),
  fc.constant(new Forged()),
  fc.constant(new Revoke()),
  fc.constant(new LogoutEverywhere()),
]

for (const backend of backends()) {
  t.test(`${backend.name} store`, async t => {
    const { app, services, clock } = await buildTestApp(t, backend, {
      config: { refreshIdleTtlSec: IDLE_SEC, refreshTokenTtlSec: ABSOLUTE_SEC, refreshReuseGraceSec: 0 },
    })
    await registerLoginClients(app)
    const client = await services.families.findClient('spa')
    if (!client) throw new Error('no spa client')
    const deps: FamilyDeps = services.families
    const tally = new Map<string, number>()

    t.test('issue 14: refresh, reuse, revoke, logout everywhere and expiry agree with the reference model; never two live tokens', async t => {
      await fc.assert(fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: 'large' }), async cmds => {
        const userId = randomUUID()
        const now = clock.now()
        const { refreshToken } = await startFamily(deps, { userId, clientId: 'spa', clientGeneration: client.generation, scope: ['openid'], authTimeSec: Math.floor(now / 1000) })
        const model: Model = { tokens: [refreshToken], dead: false, idleUntilMs: now + IDLE_SEC * 1000, absoluteUntilMs: now + ABSOLUTE_SEC * 1000, rotatedAtMs: null }
        for (const c of cmds) {
          const name = String(c).replace(/\(.*/, '')
          tally.set(name, (tally.get(name) ?? 0) + 1)
        }
        await fc.asyncModelRun(() => ({ model, real: { deps, client, userId, advance: ms => clock.advance(ms), now: () => clock.now() } }), cmds)
      }), { numRuns: RUNS })
      t.comment(`${backend.name}: ${RUNS} sequences, commands run: ${[...tally].map(([k, v]) => `${k}×${v}`).join(' ')}`)
      t.pass('every sequence matched the model')
    })
  })
}
