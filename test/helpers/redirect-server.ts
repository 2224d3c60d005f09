import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

interface Teardown { teardown(fn: () => unknown): void }

export interface RedirectServer {
  /** `http://127.0.0.1:<port>` */
  origin: string
  /**
   * The next request that reached this server (full URL, query included), in arrival order.
   * Rejects when none arrives within `timeoutMs`.
   */
  next(timeoutMs?: number): Promise<URL>
  /** Requests received and not yet taken by {@link next}. */
  pending(): URL[]
  /** Rejects every {@link next} still waiting, so no later request is handed to a waiter nobody reads. */
  abandon(): void
}

/**
 * A client's redirect-URI endpoint on 127.0.0.1 (a loopback redirect, RFC 8252 §7.3): it records
 * every request's URL and answers a small HTML page. Browsers' /favicon.ico requests are ignored.
 */
export async function startRedirectServer(t: Teardown): Promise<RedirectServer> {
  const received: URL[] = []
  const waiters: Array<{ done(u: URL): void; fail(err: Error): void }> = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin)
    if (url.pathname !== '/favicon.ico') {
      const waiter = waiters.shift()
      if (waiter) waiter.done(url)
      else received.push(url)
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><title>client app</title><p>Back at the client app.</p>')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return {
    origin,
    pending: () => [...received],
    abandon: () => { for (const w of waiters.splice(0)) w.fail(new Error('abandoned')) },
    next: (timeoutMs = 10_000) => {
      const first = received.shift()
      if (first) return Promise.resolve(first)
      return new Promise<URL>((resolve, reject) => {
        const waiter = {
          done: (u: URL) => { clearTimeout(timer); resolve(u) },
          fail: (err: Error) => { clearTimeout(timer); reject(err) },
        }
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1)
          reject(new Error(`no request reached the redirect URI within ${timeoutMs} ms`))
        }, timeoutMs)
        waiters.push(waiter)
      })
    },
  }
}
