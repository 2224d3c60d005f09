import { EventEmitter } from 'node:events'
import type { Store } from '../ports.js'
import { createMemoryAttemptCounters } from './memory-attempt-counters.js'
import { createMemoryLoginStore } from './memory-login-store.js'
import { createMemoryFamilyStore } from './memory-family-store.js'

/** In-process store for a single instance: notifications go only to this process. */
export function createMemoryStore(): Store {
  const events = new EventEmitter()
  events.setMaxListeners(0)
  // Starts empty with each process, as everything else here: a restart is a loss of the store.
  let marker: string | null = null
  return {
    kind: 'memory',
    ...createMemoryAttemptCounters(),
    ...createMemoryFamilyStore(),
    ...createMemoryLoginStore(),
    publish: async (channel, message) => { queueMicrotask(() => events.emit(channel, message)) },
    subscribe: async (channel, handler) => { events.on(channel, handler) },
    generationMarker: async () => marker,
    swapGenerationMarker: async (expected, next) => {
      if (marker === expected) marker = next
      return marker
    },
    ping: async () => {},
    close: async () => { events.removeAllListeners() },
  }
}
