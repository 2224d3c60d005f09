import t from 'tap'
import { parseConfig } from '../../src/config.js'
import { buildTestApp } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { TEST_KEK } from '../helpers/config.js'

const APP_ORIGIN = 'https://app.example.com'

t.test('CORS_ORIGINS is validated at start', async t => {
  for (const c of [
    { value: undefined, origins: [] },
    { value: 'https://app.example.com', origins: ['https://app.example.com'] },
    { value: 'https://a.example.com, http://localhost:5173', origins: ['https://a.example.com', 'http://localhost:5173'] },
    { value: 'https://app.example.com/', error: /^CORS_ORIGINS: must be a comma-separated list of origins/ },
    { value: 'https://app.example.com/callback', error: /^CORS_ORIGINS:/ },
    { value: '*', error: /^CORS_ORIGINS:/ },
    { value: 'ftp://files.example.com', error: /^CORS_ORIGINS:/ },
  ]) {
    const parse = () => parseConfig({ SIGIL_KEK: TEST_KEK, CORS_ORIGINS: c.value })
    if (c.error) t.throws(parse, c.error, `${c.value} is refused`)
    else t.same(parse().corsOrigins, c.origins, `${c.value ?? 'unset'} is accepted`)
  }
})

const backend = backends()[0]!

t.test('security headers on JSON responses, HSTS left to the TLS proxy', async t => {
  const { app } = await buildTestApp(t, backend)
  for (const url of ['/.well-known/jwks.json', '/.well-known/openid-configuration', '/healthz']) {
    const r = await app.inject({ method: 'GET', url })
    t.equal(r.statusCode, 200)
    t.equal(r.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'", url)
    t.equal(r.headers['x-content-type-options'], 'nosniff')
    t.equal(r.headers['x-frame-options'], 'SAMEORIGIN')
    t.equal(r.headers['referrer-policy'], 'no-referrer')
    t.notOk(r.headers['strict-transport-security'])
  }
})

t.test('CORS: off unless CORS_ORIGINS is set; then only those origins', async t => {
  const off = await buildTestApp(t, backend)
  const plain = await off.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: APP_ORIGIN } })
  t.notOk(plain.headers['access-control-allow-origin'], 'no CORS headers by default')

  const { app } = await buildTestApp(t, backend, { config: { corsOrigins: [APP_ORIGIN] } })
  for (const c of [
    { name: 'a listed origin is allowed', origin: APP_ORIGIN, allowed: APP_ORIGIN },
    { name: 'another origin is not', origin: 'https://evil.example.com', allowed: undefined },
  ]) {
    const r = await app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: c.origin } })
    t.equal(r.headers['access-control-allow-origin'], c.allowed, c.name)
  }
  const preflight = await app.inject({
    method: 'OPTIONS', url: '/oauth2/token',
    headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], APP_ORIGIN)
  t.match(preflight.headers['access-control-allow-methods'], /POST/)
  t.match(preflight.headers['access-control-allow-headers'], /authorization/)
  t.notOk(preflight.headers['access-control-allow-credentials'], 'no cookies: bearer tokens only')
})

t.test('an overloaded instance sheds requests with 503 and Retry-After, never the probes', async t => {
  // A threshold of 1 ms: a stall of ~1 s puts the instance under pressure at the end of the
  // 5 s sampling window it falls in, for the next window.
  const { app } = await buildTestApp(t, backend, { config: { maxEventLoopDelayMs: 1 } })
  const block = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end) { /* stall the event loop */ } }
  let shed: Awaited<ReturnType<typeof app.inject>> | undefined
  for (let attempt = 0; attempt < 3 && !shed; attempt++) {
    block(1200)
    const until = Date.now() + 7000
    while (!shed && Date.now() < until) {
      const r = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
      if (r.statusCode === 503) shed = r
      else await new Promise(r => setTimeout(r, 20))
    }
  }
  if (!shed) return t.fail('never under pressure')
  t.equal(shed.headers['retry-after'], '10')
  t.equal(shed.json().error, 'temporarily_unavailable')
  const probes = await Promise.all(['/healthz', '/readyz'].map(url => app.inject({ method: 'GET', url })))
  const stillUnderPressure = (app as unknown as { isUnderPressure(): boolean }).isUnderPressure()
  t.same(probes.map(r => r.statusCode), [200, 200], `probes answered (under pressure meanwhile: ${stillUnderPressure})`)
})
