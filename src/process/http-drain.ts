import type { Server, ServerResponse } from 'node:http'
import { Server as NetServer, type Socket } from 'node:net'

/**
 * Once nothing is in flight, how long open keep-alive connections get to send one more request
 * (answered, with `Connection: close`) before they are closed. A client that reuses a
 * connection at the very instant it is closed sees a reset; a client busy on a connection
 * comes back well within this time, so only connections quiet for all of it are closed.
 */
const KEEP_ALIVE_GRACE_MS = 1000

export interface InFlightTracker {
  /** Requests received and not yet answered (or abandoned by their client). */
  count(): number
  /**
   * Stops accepting connections and answers every further request with `Connection: close`;
   * resolves, having closed the remaining idle connections, once nothing is in flight and the
   * grace has passed (at once when no connection is left). Never rejects; the caller bounds it.
   */
  drain(): Promise<void>
}

/** Tracks the requests and connections of `server` from now on, so it can be drained. */
export function trackInFlight(server: Server): InFlightTracker {
  const open = new Set<ServerResponse>()
  const sockets = new Set<Socket>()
  let draining = false
  let settle: (() => void) | undefined
  server.prependListener('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => { sockets.delete(socket); settle?.() })
  })
  // One listener function for every response (a response closes once): no closure per request.
  function closed(this: ServerResponse) {
    open.delete(this)
    settle?.()
  }
  server.prependListener('request', (_req, res: ServerResponse) => {
    open.add(res)
    if (draining) res.shouldKeepAlive = false
    res.on('close', closed)
  })
  const drain = () => new Promise<void>(resolve => {
    draining = true
    for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false
    // net's close, not http's: http.Server#close also drops idle keep-alive connections at once
    // (Node >= 19), racing clients that are about to reuse them.
    NetServer.prototype.close.call(server)
    const graceEndsMs = Date.now() + KEEP_ALIVE_GRACE_MS
    let timer: NodeJS.Timeout | undefined
    const finish = () => {
      settle = undefined
      clearTimeout(timer)
      server.closeIdleConnections()
      resolve()
    }
    settle = () => {
      if (sockets.size === 0 || (open.size === 0 && Date.now() >= graceEndsMs)) return finish()
      if (open.size === 0 && timer === undefined) {
        timer = setTimeout(() => { timer = undefined; settle?.() }, graceEndsMs - Date.now())
      }
    }
    settle()
  })
  return { count: () => open.size, drain }
}
