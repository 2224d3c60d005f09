import { connect, type Socket } from 'node:net'
import t from 'tap'
import { parseConfig } from '../../src/config.js'
import { CONNECTIONS_CHECK_INTERVAL_MS } from '../../src/http/server-options.js'
import { backends } from '../helpers/backends.js'
import { startTestServer } from '../helpers/server.js'

const LIMITS = { httpHeadersTimeoutSec: 1, httpRequestTimeoutSec: 2, httpConnectionTimeoutSec: 3, httpKeepAliveTimeoutSec: 1 }
/** Node checks for expired requests once per interval; one more interval absorbs a loaded machine's timers. */
const MARGIN_MS = 2 * CONNECTIONS_CHECK_INTERVAL_MS

interface Raw { socket: Socket; received(): string; closedAfterMs: Promise<number> }

/** No limit in this file is longer: a connection still open by then is reported as never closed (Infinity) and dropped. */
const GIVE_UP_MS = LIMITS.httpConnectionTimeoutSec * 1000 + 2 * MARGIN_MS

/** A raw TCP connection to the server; `closedAfterMs` resolves when the server closes it. */
async function open(port: number): Promise<Raw> {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const startMs = Date.now()
  let received = ''
  socket.on('data', d => { received += d })
  socket.on('error', () => {})
  const closedAfterMs = new Promise<number>(resolve => {
    const giveUp = setTimeout(() => { resolve(Infinity); socket.destroy() }, GIVE_UP_MS)
    socket.once('close', () => { clearTimeout(giveUp); resolve(Date.now() - startMs) })
  })
  return { socket, received: () => received, closedAfterMs }
}

t.test('issue 11: the slow-client timeouts are configurable and checked at start', async t => {
  const c = parseConfig({})
  t.same([c.httpHeadersTimeoutSec, c.httpRequestTimeoutSec, c.httpKeepAliveTimeoutSec, c.httpConnectionTimeoutSec], [10, 30, 72, 30])
  t.throws(() => parseConfig({ HTTP_HEADERS_TIMEOUT: '40' }), /^HTTP_HEADERS_TIMEOUT: must be at most HTTP_REQUEST_TIMEOUT/)
  for (const name of ['HTTP_HEADERS_TIMEOUT', 'HTTP_REQUEST_TIMEOUT', 'HTTP_KEEP_ALIVE_TIMEOUT', 'HTTP_CONNECTION_TIMEOUT']) {
    t.throws(() => parseConfig({ [name]: '0' }), new RegExp(`^${name}: `), `${name}=0 is refused: 0 would mean no limit`)
  }
})

t.test('issue 11: slow clients are cut off at the configured limits', async t => {
  const { app } = await startTestServer(t, backends()[0]!, LIMITS)
  const { port } = app.server.address() as { port: number }
  const headersMs = LIMITS.httpHeadersTimeoutSec * 1000
  const requestMs = LIMITS.httpRequestTimeoutSec * 1000
  // Each case is its own connection waiting out a server timer: wait them out at once.
  t.jobs = 6

  t.test('a body that never finishes: 408 and closed within HTTP_REQUEST_TIMEOUT', async t => {
    const c = await open(port)
    c.socket.write('POST /oauth2/token HTTP/1.1\r\nHost: sigil\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\ngrant_type=cli')
    const ms = await c.closedAfterMs
    t.ok(ms >= requestMs - 100 && ms <= requestMs + MARGIN_MS, `closed after ${ms} ms`)
    t.match(c.received(), /^HTTP\/1\.1 408 /)
  })

  t.test('a body trickled a byte at a time (never idle) is cut off all the same', async t => {
    const c = await open(port)
    c.socket.write('POST /oauth2/token HTTP/1.1\r\nHost: sigil\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n')
    const drip = setInterval(() => c.socket.write('a'), 100)
    t.teardown(() => clearInterval(drip))
    const ms = await c.closedAfterMs
    t.ok(ms <= requestMs + MARGIN_MS, `closed after ${ms} ms`)
  })

  for (const c of [
    { name: 'headers that never finish: closed within HTTP_HEADERS_TIMEOUT', send: 'GET /healthz HTTP/1.1\r\nHost: sigil\r\nX-Slow: ', limitMs: headersMs },
    { name: 'a connection that never says anything: closed within HTTP_HEADERS_TIMEOUT too', send: '', limitMs: headersMs },
    {
      name: 'an idle keep-alive connection: closed after HTTP_KEEP_ALIVE_TIMEOUT', send: 'GET /healthz HTTP/1.1\r\nHost: sigil\r\n\r\n',
      limitMs: LIMITS.httpKeepAliveTimeoutSec * 1000, answer: /^HTTP\/1\.1 200 /,
    },
  ]) {
    t.test(c.name, async t => {
      const conn = await open(port)
      if (c.send) conn.socket.write(c.send)
      const ms = await conn.closedAfterMs
      t.ok(ms >= c.limitMs - 100 && ms <= c.limitMs + MARGIN_MS, `closed after ${ms} ms`)
      if (c.answer) t.match(conn.received(), c.answer)
    })
  }

  t.test('300 stalled connections do not keep a normal request from being answered, and are all dropped', async t => {
    const stalled = await Promise.all(Array.from({ length: 300 }, () => open(port)))
    for (const c of stalled) c.socket.write('POST /oauth2/token HTTP/1.1\r\nHost: sigil\r\nContent-Length: 50\r\n\r\nx')
    const r = await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)
    t.equal(r.status, 200)
    const closed = await Promise.all(stalled.map(c => c.closedAfterMs))
    t.ok(Math.max(...closed) <= requestMs + MARGIN_MS, `all 300 closed, the last after ${Math.max(...closed)} ms`)
  })
})
