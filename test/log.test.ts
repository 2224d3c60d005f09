import { PassThrough } from 'node:stream'
import t from 'tap'
import { createLogger } from '../src/log.js'

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
