import t from 'tap'
import { adminRequest, buildTestApp, createUser, PASSWORD } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { authorizePath, Browser, hiddenFields, pkcePair, registerCodeClients, SPA_CB } from '../helpers/browser.js'

const IP_LIMIT = 3

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, clock } = await buildTestApp(t, backend, {
      config: { rateLimitIpFailures: IP_LIMIT, loginBranding: { productName: 'Acme <ID>', logoUrl: 'https://cdn.example/logo.svg', accentColor: '#0a0' } },
    })
    await registerCodeClients(payload => adminRequest(app, 'POST', '/admin/clients', payload))
    await createUser(app, { username: 'alice', password: PASSWORD })
    const path = authorizePath({ response_type: 'code', client_id: 'spa', redirect_uri: SPA_CB, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' })

    t.test('issue 10: the pages carry the configured branding, escaped, and the logo origin in the CSP', async t => {
      const r = await new Browser(app).get(path)
      t.match(r.body, /<img class="logo" src="https:\/\/cdn\.example\/logo\.svg" alt="">/)
      t.match(r.body, /<span class="product">Acme &lt;ID&gt;<\/span>/)
      t.match(String(r.headers['content-security-policy']), /img-src 'self' https:\/\/cdn\.example;/)
      t.match((await app.inject({ method: 'GET', url: '/oauth2/assets/sigil.css' })).body, /--accent:#0a0;/)
    })

    t.test('issue 10: failed logins on the page count towards RATE_LIMIT_IP_FAILURES; then even the right password waits', async t => {
      const browser = new Browser(app)
      const page = await browser.get(path)
      const post = (password: string) => browser.post('/oauth2/authorize/login', { ...hiddenFields(page.body), username: 'alice', password })
      for (let i = 0; i < IP_LIMIT; i++) t.equal((await post('wrong password ' + i)).statusCode, 400)
      const limited = await post(PASSWORD)
      t.equal(limited.statusCode, 429)
      t.ok(Number(limited.headers['retry-after']) >= 1)
      t.match(limited.body, /role="alert">Too many attempts/)
      t.equal(limited.headers.location, undefined, 'no code')
      clock.advance(61_000)
      t.equal((await post(PASSWORD)).statusCode, 303, 'the next minute the login works')
    })
  })
}
