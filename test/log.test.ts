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
