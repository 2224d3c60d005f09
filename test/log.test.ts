import { PassThrough } from 'node:stream'
import t from 'tap'
import { createLogger, LineBatch } from '../src/log.js'

t.test('issue 10: credentials in a logged URL (id_token_hint of a logout, code) are cut; other parameters stay', async t => {
  const out = new PassThrough()
  const lines: string[] = []
  out.on('data', chunk => lines.push(String(chunk)))
  const log = createLogger('info', out)
  log.info({ req: { method: 'GET', url: '/oauth2/logout?id_token_hint=eyJhbGciOi.secret.sig&state=s1' } }, 'incoming request')
  log.info({ req: { method: 'GET', url: '/cb?code=abc123&csrf_token=zz&code_verifier=vv&state=s2' } }, 'incoming request')
  await new Promise(resolve => setImmediate(resolve))
  const text = lines.join('')
  t.notMatch(text, /eyJhbGciOi|abc123|=zz|=vv/)
  t.match(text, /id_token_hint=\[redacted\]&state=s1/)
  t.match(text, /code=\[redacted\]/)
})

t.test('issue 12: a logged request shows only its fixed fields: no header or body can reach a line through it', async t => {
  const out = new PassThrough()
  const lines: string[] = []
  out.on('data', chunk => lines.push(String(chunk)))
  const log = createLogger('info', out)
  log.info({
    req: { method: 'POST', url: '/oauth2/token', headers: { authorization: 'Basic c2VrcmV0', cookie: 'sid=cookie-secret' }, body: { password: 'pw-secret', client_secret: 'cs-secret' } },
    password: 'top-level-secret',
  }, 'request completed')
  await new Promise(resolve => setImmediate(resolve))
  const line = JSON.parse(lines.join(''))
  t.same(Object.keys(line.req).sort(), ['method', 'url'], 'only the serializer\'s fields (the rest absent here)')
  t.equal(line.password, '[redacted]')
  t.notMatch(lines.join(''), /c2VrcmV0|cookie-secret|pw-secret|cs-secret|top-level-secret/)
})

/** A sink recording what it is handed, as sonic-boom would receive it. */
function recordingSink() {
  const writes: string[] = []
  let syncFlushes = 0
  return {
    writes, syncFlushes: () => syncFlushes,
    sink: { write: (s: string) => { writes.push(s); return true }, flush: (cb?: (err?: Error) => void) => cb?.(), flushSync: () => { syncFlushes++ } },
  }
}

t.test('issue 12: log lines go to stdout\'s writer in batches, in order: when enough are pending, or after a short delay', async t => {
  const { writes, sink } = recordingSink()
  // The delay is far longer than one turn of the event loop (a test may run from any phase of it).
  const batch = new LineBatch(sink, { maxDelayMs: 200, maxChars: 8 })
  batch.write('a\n')
  batch.write('b\n')
  await new Promise(resolve => setImmediate(resolve))
  t.same(writes, [], 'not at the end of the event-loop turn')
  await new Promise(resolve => setTimeout(resolve, 400))
  t.same(writes, ['a\nb\n'], 'after the delay, as one write')
  batch.write('cccc\n')
  batch.write('dddd\n')
  t.same(writes, ['a\nb\n', 'cccc\ndddd\n'], 'at once when maxChars are pending')
  await new Promise(resolve => setTimeout(resolve, 20))
  t.same(writes, ['a\nb\n', 'cccc\ndddd\n'], 'nothing written twice')
})

t.test('issue 12: flushSync (at exit, after a crash) hands the pending lines to the writer before flushing it', async t => {
  const { writes, sink, syncFlushes } = recordingSink()
  const batch = new LineBatch(sink, { maxDelayMs: 1, maxChars: 1024 })
  batch.write('fatal line\n')
  batch.flushSync()
  t.same(writes, ['fatal line\n'])
  t.equal(syncFlushes(), 1)
  await new Promise(resolve => setTimeout(resolve, 20))
  t.same(writes, ['fatal line\n'], 'nothing written twice')
})

t.test('issue 12: a logger on a line batch still redacts secrets', async t => {
  const { writes, sink } = recordingSink()
  const batch = new LineBatch(sink)
  const log = createLogger('info', batch as unknown as NodeJS.WritableStream)
  log.info({ password: 'pw-secret', client_id: 'c1' }, 'token issued')
  batch.flushSync()
  t.notMatch(writes.join(''), /pw-secret/)
  t.match(writes.join(''), /"client_id":"c1"/)
})
