import { SIGNING_ALGS, type Config, type SigningAlg } from '../config.js'
import type { Clock } from '../clock.js'
import type { NewKeyRow, SigningKeyRepo, SigningKeyRow } from './signing-key-repository.js'
import { Conflict, NotFound } from '../errors.js'
import type { Logger } from '../log.js'
import { acceptanceWindowMs } from '../tokens/token-lifetime.js'
import type { Kek } from './kek.js'
import { generateKeyMaterial } from './key-material.js'

export interface KeyRotationDeps {
  repo: SigningKeyRepo
  kek: Kek
  clock: Clock
  log: Logger
  config: Pick<Config, 'keyLeadTimeSec' | 'keyRotationIntervalSec' | 'clockSkewSec'>
  /** The longest lifetime any token may be given now (seconds). */
  maxTokenTtlSec(): Promise<number>
  /** Tells every instance (this one included) that keys changed. */
  announce(): Promise<void>
}

export interface RotationResult { current: SigningKeyRow; next: SigningKeyRow; retiring: SigningKeyRow }

/** Makes a key pair and seals its private half under the KEK (the kid is the associated data). */
async function makeKey(deps: Pick<KeyRotationDeps, 'kek' | 'clock'>, alg: SigningAlg): Promise<NewKeyRow> {
  const m = await generateKeyMaterial(alg)
  const privateKeyEnc = deps.kek.seal(Buffer.from(JSON.stringify(m.privateJwk)), m.kid)
  return { kid: m.kid, alg, publicJwk: m.publicJwk, privateKeyEnc, createdAt: new Date(deps.clock.now()) }
}

/**
 * Makes sure every algorithm has a `current` and a `next` key. On an empty database both are
 * made at once and the first current key signs immediately: no cache can hold an older JWKS.
 * Safe to run from several instances at once: the loser's inserts are refused and it re-reads.
 */
export async function ensureKeys(deps: KeyRotationDeps): Promise<void> {
  const keys = await deps.repo.listPublished()
  let changed = false
  for (const alg of SIGNING_ALGS) {
    const mine = keys.filter(k => k.alg === alg)
    if (!mine.some(k => k.state === 'current')) {
      const [current, next] = await Promise.all([makeKey(deps, alg), makeKey(deps, alg)])
      changed = await deps.repo.insertInitial([{ ...current, state: 'current' }, { ...next, state: 'next' }], new Date(deps.clock.now())) || changed
      if (changed) deps.log.info({ alg, current: current.kid, next: next.kid }, 'created initial signing keys')
    } else if (!mine.some(k => k.state === 'next')) {
      changed = await deps.repo.insertNext(await makeKey(deps, alg)) || changed
    }
  }
  if (changed) await deps.announce()
}

/**
 * Rotates one algorithm's keys: next → current, current → retiring, and a fresh next.
 * Throws {@link Conflict} when the next key has been published for less than KEY_LEAD_TIME
 * (caches may not have it yet) unless `force`, or when another rotation won the race.
 */
export async function rotateKeys(deps: KeyRotationDeps, alg: SigningAlg, opts: { force?: boolean } = {}): Promise<RotationResult> {
  const keys = await deps.repo.listPublished()
  const current = keys.find(k => k.alg === alg && k.state === 'current')
  const next = keys.find(k => k.alg === alg && k.state === 'next')
  if (!current || !next) throw new Conflict(`no current and next ${alg} key to rotate; retry in a moment`)
  const nowMs = deps.clock.now()
  const publishedSec = Math.floor((nowMs - next.createdAt.getTime()) / 1000)
  if (!opts.force && publishedSec < deps.config.keyLeadTimeSec) {
    throw new Conflict(`the next ${alg} key ${next.kid} has been published for ${publishedSec} s; ` +
      `it may sign only after KEY_LEAD_TIME (${deps.config.keyLeadTimeSec} s), when every JWKS cache has it. ` +
      'Retry later, or pass force: true (tokens it signs may fail at resource servers holding an older JWKS)')
  }
  const retireAfterMs = nowMs + await acceptanceWindowMs(deps)
  const newNext = await makeKey(deps, alg)
  const ok = await deps.repo.rotate({
    currentKid: current.kid, nextKid: next.kid, newNext, now: new Date(nowMs), retireAfter: new Date(retireAfterMs),
  })
  if (!ok) throw new Conflict(`another rotation of the ${alg} keys happened at the same time; list the keys and retry`)
  deps.log.info({ alg, current: next.kid, next: newNext.kid, retiring: current.kid, force: opts.force === true }, 'rotated signing keys')
  await deps.announce()
  const after = await deps.repo.listAll()
  const pick = (kid: string) => after.find(k => k.kid === kid)!
  return { current: pick(next.kid), next: pick(newNext.kid), retiring: pick(current.kid) }
}

/**
 * Emergency: takes a key out of the JWKS at once and erases its private half. A revoked
 * current key is replaced by the next one at once (lead time or not), and a fresh next is made.
 * Throws {@link NotFound} for an unknown, retired or already revoked kid.
 */
export async function revokeKey(deps: KeyRotationDeps, kid: string): Promise<SigningKeyRow> {
  const keys = await deps.repo.listPublished()
  const key = keys.find(k => k.kid === kid)
  if (!key) throw new NotFound(`no published signing key ${kid}`)
  const next = keys.find(k => k.alg === key.alg && k.state === 'next')
  const newNext = key.state === 'retiring' ? undefined : await makeKey(deps, key.alg)
  const was = await deps.repo.revoke({ kid, now: new Date(deps.clock.now()), promoteKid: next?.kid, newNext })
  if (was === null) throw new NotFound(`no published signing key ${kid}`)
  deps.log.warn({ kid, alg: key.alg, was }, 'revoked signing key')
  await deps.announce()
  return (await deps.repo.listAll()).find(k => k.kid === kid)!
}

/**
 * The periodic duty of every instance: retire keys whose tokens have all expired, and rotate
 * an algorithm whose current key is older than KEY_ROTATION_INTERVAL (and whose next key is
 * past its lead time). Several instances may run it at once; the database's conditional
 * updates let exactly one rotation through.
 */
export async function runKeyMaintenance(deps: KeyRotationDeps): Promise<void> {
  const nowMs = deps.clock.now()
  const retired = await deps.repo.retireExpired(new Date(nowMs))
  if (retired.length > 0) {
    deps.log.info({ kids: retired }, 'retired signing keys: every token they signed has expired')
    await deps.announce()
  }
  const intervalMs = deps.config.keyRotationIntervalSec * 1000
  if (intervalMs === 0) return
  const keys = await deps.repo.listPublished()
  for (const alg of SIGNING_ALGS) {
    const current = keys.find(k => k.alg === alg && k.state === 'current')
    const next = keys.find(k => k.alg === alg && k.state === 'next')
    if (!current?.activatedAt || !next) continue
    const due = nowMs - current.activatedAt.getTime() >= intervalMs
    const ready = nowMs - next.createdAt.getTime() >= deps.config.keyLeadTimeSec * 1000
    if (!due || !ready) continue
    try {
      await rotateKeys(deps, alg)
    } catch (err) {
      if (!(err instanceof Conflict)) throw err
      deps.log.debug({ alg }, 'automatic rotation already done by another instance')
    }
  }
}

/**
 * How often an instance runs {@link runKeyMaintenance} and reloads its key ring (ms): every 5 s,
 * so a lost key-change notification is made good within that; short rotation intervals
 * (tests, demos) are checked more often so they are kept to. Pure.
 */
export function keyMaintenancePeriodMs(config: Pick<Config, 'keyRotationIntervalSec'>): number {
  const rotationMs = config.keyRotationIntervalSec * 1000
  return rotationMs > 0 ? Math.min(5000, Math.max(250, rotationMs / 4)) : 5000
}
