import { randomBytes } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { StoreGenerationRepo } from './store-generation-repository.js'
import { TemporarilyUnavailable } from '../errors.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../metrics/ports.js'
import type { Store } from '../store/ports.js'

/**
 * Which generation of the store (Redis, or the in-process store) is current. Every access
 * token carries the generation it was issued under (private claim `sgen`) and is accepted on
 * Sigil's own surfaces only while that generation is still current.
 *
 * Why: denylisted tokens, revoked families and logouts-everywhere live only in the store. A
 * store that lost its data (a restart without persistence, FLUSHALL, a failover to a replica
 * from before a loss; for the in-process store, every restart) would forget them and un-revoke
 * those tokens. Its marker goes with its data, so a missing or retired marker is a loss, and a
 * new generation begins: every token issued before it is inactive (fail closed). A generation
 * id rather than a "not before" time, because `iat` has whole seconds: a time would misjudge
 * tokens issued in the same second as the loss, before or after it.
 */
export interface StoreGeneration {
  /**
   * The current generation, after reading the store's marker (one store read; the database
   * only when the marker is not the one this instance knows). Notices a loss the first time it
   * is called after it, on any instance. Throws TemporarilyUnavailable when the store fails.
   */
  current(): Promise<string>
  /**
   * {@link current} for a marker the caller has just read from the store itself (with other
   * keys, in one step: FamilyStore.readRevocations): no second store read when it is the one
   * this instance knows.
   */
  fromMarker(marker: string | null): Promise<string>
  /**
   * Like {@link current} but always compares with the database too: catches a stale replica
   * whose marker this instance still takes for current. Run at start and periodically.
   */
  check(): Promise<string>
  /**
   * The generation to issue a token under: the one this instance last confirmed, when it did
   * so less than `issuanceReuseMs` ago (1 s by default; every {@link current} and {@link check}
   * confirms), else {@link current}. Saves a store read per token. Safe: a token issued under a
   * generation the store has just left (a loss in that window) is simply inactive wherever it
   * is checked, as if issued before the loss (fail closed). Token checks keep {@link current}.
   */
  forIssuance(): Promise<string>
}

export interface StoreGenerationDeps {
  store: Pick<Store, 'kind' | 'generationMarker' | 'swapGenerationMarker'>
  repo: StoreGenerationRepo
  clock: Clock
  log: Logger
  metrics?: Metrics
  /** How long {@link StoreGeneration.forIssuance} reuses a confirmed generation; 1000 ms by default, 0: never. */
  issuanceReuseMs?: number
}

const ISSUANCE_REUSE_MS = 1000

export function createStoreGeneration(deps: StoreGenerationDeps): StoreGeneration {
  const reuseMs = deps.issuanceReuseMs ?? ISSUANCE_REUSE_MS
  let known: string | null = null
  // Monotonic real time, not the injected clock: this bounds a cache, it dates nothing.
  let confirmedAt = -Infinity
  let syncing: Promise<string> | null = null
  const sync = async () => {
    syncing ??= syncGeneration(deps).finally(() => { syncing = null })
    known = await syncing
    confirmedAt = performance.now()
    return known
  }
  const fromMarker = async (marker: string | null) => {
    if (marker === null || marker !== known) return sync()
    confirmedAt = performance.now()
    return marker
  }
  const current = async () => fromMarker(await deps.store.generationMarker())
  return {
    current,
    fromMarker,
    check: sync,
    forIssuance: async () => known !== null && performance.now() - confirmedAt < reuseMs ? known : current(),
  }
}

const SYNC_ATTEMPTS = 5

/**
 * Brings the store's marker and the database's record of it into agreement. A missing marker
 * is created once for all instances (the first writer wins); a retired one (a stale replica)
 * is replaced; an unknown one is another instance's recovery under way, and is adopted. The
 * instance whose database update wins reports the loss, so a loss is reported once.
 */
async function syncGeneration(deps: StoreGenerationDeps): Promise<string> {
  for (let attempt = 0; attempt < SYNC_ATTEMPTS; attempt++) {
    const [marker, recorded] = await Promise.all([deps.store.generationMarker(), deps.repo.read()])
    if (marker !== null && marker === recorded?.current) return marker
    const fresh = randomBytes(12).toString('base64url')
    const target = marker === null || recorded?.retired.includes(marker)
      ? await deps.store.swapGenerationMarker(marker, fresh)
      : marker
    if (target === null) continue
    // The two reads above raced another instance's recovery, which already recorded this marker.
    if (target === recorded?.current) return target
    if (await deps.repo.replace(recorded?.current ?? null, target, deps.clock.now())) {
      if (recorded) reportLoss(deps, recorded.current, target)
      return target
    }
  }
  throw new TemporarilyUnavailable('the store generation changed during every attempt to read it')
}

function reportLoss(deps: StoreGenerationDeps, previous: string, next: string): void {
  const fields = { event: 'store_generation_changed', store: deps.store.kind, previous_generation: previous, generation: next }
  if (deps.store.kind === 'memory') {
    // Expected at every start of the embedded default: the in-process store starts empty.
    deps.log.info(fields, 'the in-process store starts empty: tokens issued before this start are inactive')
    return
  }
  deps.metrics?.storeDataLost()
  deps.log.warn(fields, 'the store lost its data (marker missing or stale): every token issued before now is inactive')
}
