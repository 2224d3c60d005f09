import type { Clock } from '../../src/clock.js'

/** A clock that moves only when told. */
export function fixedClock(startMs = Date.now()): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = startMs
  return { now: () => now, advance: ms => { now += ms }, set: ms => { now = ms } }
}

/** Waits on real time: only for what no injected clock moves (other processes, sockets, timers of libraries). */
export const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms))
