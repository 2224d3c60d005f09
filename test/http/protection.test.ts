import helmet from '@fastify/helmet'
import Fastify from 'fastify'
import t from 'tap'
import { parseConfig } from '../../src/config.js'
import { buildTestApp } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { TEST_KEK } from '../helpers/config.js'
import { sleep } from '../helpers/clock.js'

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

/** What @fastify/helmet sends with the configuration Sigil used before issue 12 precomputed it. */
async function helmetHeaders(): Promise<Record<string, string>> {
  const ref = Fastify()
  await ref.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    strictTransportSecurity: false,
  })
  ref.get('/', async () => ({}))
  const r = await ref.inject({ method: 'GET', url: '/' })
  await ref.close()
  const generic = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive'])
  return Object.fromEntries(Object.entries(r.headers).filter(([name]) => !generic.has(name))) as Record<string, string>
}

t.test('issue 12: the precomputed security headers are exactly helmet\'s, on JSON, error and hosted HTML responses', async t => {
  const expected = await helmetHeaders()
  t.ok(Object.keys(expected).length >= 10, 'helmet sends its header set')
  const { app } = await buildTestApp(t, backend)
  const securityOf = (headers: Record<string, unknown>) =>
    Object.fromEntries(Object.keys(expected).map(name => [name, headers[name]]))
  for (const c of [
    { url: '/.well-known/jwks.json', status: 200 },
    { url: '/no/such/route', status: 404 },
    { url: '/.well-known/jwks.json?alg=none', status: 400 },
  ]) {
    const r = await app.inject({ method: 'GET', url: c.url })
    t.equal(r.statusCode, c.status, c.url)
    t.same(securityOf(r.headers), expected, `${c.url}: same names and values as helmet`)
    t.notOk(r.headers['strict-transport-security'], `${c.url}: no HSTS`)
  }
  // A hosted page (the authorization endpoint's error page) keeps its own CSP and every other header.
  const page = await app.inject({ method: 'GET', url: '/oauth2/authorize' })
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(String(page.headers['content-security-policy']), /^default-src 'none'; style-src 'self'/, 'the page\'s own CSP')
  t.same({ ...securityOf(page.headers), 'content-security-policy': 'the page\'s' }, { ...expected, 'content-security-policy': 'the page\'s' },
    'every other header as on JSON responses')
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
  const underPressure = () => (app as unknown as { isUnderPressure(): boolean }).isUnderPressure()
  type Reply = Awaited<ReturnType<typeof app.inject>>
  // A request and both probes in one batch: the probes are answered while the request beside them is shed.
  let seen: { shed: Reply; probes: Reply[] } | undefined
  for (let attempt = 0; attempt < 3 && !seen; attempt++) {
    block(1200)
    const until = Date.now() + 7000
    while (!seen && Date.now() < until) {
      const [r, ...probes] = await Promise.all(['/.well-known/jwks.json', '/healthz', '/readyz'].map(url => app.inject({ method: 'GET', url })))
      if (r!.statusCode === 503 && underPressure()) seen = { shed: r!, probes }
      else await sleep(20)
    }
  }
  if (!seen) return t.fail('never under pressure')
  t.equal(seen.shed.headers['retry-after'], '10')
  t.equal(seen.shed.json().error, 'temporarily_unavailable')
  t.same(seen.probes.map(r => r.statusCode), [200, 200], 'issue 15: the probes are answered while the instance is under pressure')
})
