import { spawnSync } from 'node:child_process'
import t from 'tap'
import { ConfigError, parseConfig } from '../src/config.js'

t.test('defaults match the contract', async t => {
  const c = parseConfig({})
  t.equal(c.issuer, 'http://localhost:3000')
  t.equal(c.port, 3000)
  t.equal(c.host, '0.0.0.0')
  t.equal(c.accessTokenTtlSec, 900)
  t.equal(c.refreshTokenTtlSec, 2592000)
  t.equal(c.refreshIdleTtlSec, 1209600)
  t.equal(c.refreshReuseGraceSec, 0)
  t.equal(c.signingAlg, 'ES256')
  t.equal(c.keyRotationIntervalSec, 2592000)
  t.equal(c.jwksMaxAgeSec, 300)
  t.equal(c.keyLeadTimeSec, 600, 'JWKS_MAX_AGE + 300')
  t.equal(c.rateLimitIpFailures, 100)
  t.equal(c.rateLimitUserFailures, 10)
  t.equal(c.rateLimitIp, 0)
  t.equal(c.trustProxy, false)
  t.equal(c.shutdownTimeoutSec, 10)
  t.equal(c.databaseUrl, undefined)
  t.equal(c.redisUrl, undefined)
  t.ok(Object.isFrozen(c))
})

t.test('parses what operators write', async t => {
  const c = parseConfig({
    JWKS_MAX_AGE: '60', PORT: '8080', TRUST_PROXY: '10.0.0.0/8, 127.0.0.1', SIGNING_ALG: 'RS256',
    SIGIL_ADMIN_CLIENT_ID: 'admin', SIGIL_ADMIN_CLIENT_SECRET: 'x'.repeat(32), REDIS_URL: 'redis-sentinel://a:26379,b:26379/mymaster',
  })
  t.equal(c.keyLeadTimeSec, 360)
  t.equal(c.port, 8080)
  t.same(c.trustProxy, ['10.0.0.0/8', '127.0.0.1'])
  t.same(c.adminClient, { clientId: 'admin', clientSecret: 'x'.repeat(32) })
  t.equal(parseConfig({ TRUST_PROXY: '2' }).trustProxy, 2)
  t.equal(parseConfig({ PORT: '' }).port, 3000, 'an empty value counts as unset')
})

for (const [variable, value] of [
  ['PORT', 'eighty'], ['PORT', '70000'], ['ISSUER', 'https://idp.example/'], ['ISSUER', 'ftp://x'],
  ['ACCESS_TOKEN_TTL', '0'], ['ACCESS_TOKEN_TTL', '1.5'], ['SIGNING_ALG', 'HS256'], ['LOG_LEVEL', 'loud'],
  ['DATABASE_URL', 'mysql://x'], ['REDIS_URL', 'http://x'], ['REDIS_URL', 'redis-cluster://127.0.0.1:7101,,127.0.0.1:7103'],
  ['REDIS_URL', 'redis-sentinel://127.0.0.1:26411,127.0.0.1:26412'], ['REDIS_URL', 'redis-cluster://h1:7000/1'], ['REDIS_URL', 'redis://a:1,b:2'], ['SIGIL_KEK', 'short'], ['TRUST_PROXY', '10.0.0.0/99'],
  ['SIGIL_ADMIN_CLIENT_SECRET', 'short'], ['KEY_LEAD_TIME', '10'], ['JWKS_MAX_AGE', '-1'],
  ['LOGIN_ACCENT_COLOR', 'red'], ['LOGIN_ACCENT_COLOR', '#123;} body{display:none'], ['LOGIN_ACCENT_COLOR', '#12345'],
  ['LOGIN_LOGO_URL', 'http://cdn.example/logo.png'], ['LOGIN_LOGO_URL', 'javascript:alert(1)'], ['LOGIN_LOGO_URL', '//evil.example/x.png'],
  ['LOGIN_LOGO_URL', 'https://cdn.example/a"b.png'], ['LOGIN_PRODUCT_NAME', 'x'.repeat(81)], ['LOGIN_SESSION_TTL', '10'],
  ['SIMPLEJWT_PREFIX', 'api/token'], ['SIMPLEJWT_PREFIX', '/api/to ken'], ['SIMPLEJWT_PREFIX', '/'],
] as const) {
  t.test(`${variable}=${value} is refused with one line naming it`, async t => {
    const env: Record<string, string> = { [variable]: value }
    if (variable === 'SIGIL_ADMIN_CLIENT_SECRET') env.SIGIL_ADMIN_CLIENT_ID = 'admin'
    const err = t.throws(() => parseConfig(env)) as Error
    t.type(err, ConfigError)
    t.match(err.message, new RegExp(`^${variable}: `))
    t.notMatch(err.message, /\n/)
  })
}

t.test('issue 10: login branding and SSO session lifetimes have safe defaults and take valid values', async t => {
  const d = parseConfig({})
  t.same(d.loginBranding, { productName: 'Sigil', logoUrl: undefined, accentColor: '#2454d6' })
  t.equal(d.loginSessionIdleTtlSec, 28800)
  t.equal(d.loginSessionTtlSec, 604800)
  const c = parseConfig({ LOGIN_PRODUCT_NAME: 'Acme ID', LOGIN_LOGO_URL: 'https://cdn.example/logo.svg', LOGIN_ACCENT_COLOR: '#0a0', LOGIN_SESSION_TTL: '3600' })
  t.same(c.loginBranding, { productName: 'Acme ID', logoUrl: 'https://cdn.example/logo.svg', accentColor: '#0a0' })
  t.equal(c.loginSessionIdleTtlSec, 3600, 'idle never outlasts the absolute lifetime')
  t.equal(parseConfig({ LOGIN_LOGO_URL: '/static/logo.png' }).loginBranding.logoUrl, '/static/logo.png')
})

t.test('an invalid value stops the process with one line on stderr', async t => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { ...process.env, PORT: 'eighty', DATABASE_URL: '', REDIS_URL: '' }, encoding: 'utf8', timeout: 60_000,
  })
  t.equal(r.status, 2)
  t.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  t.match(r.stderr, /PORT: must be a port number/)
})

t.test('issue 13: SIMPLEJWT_PREFIX is /api/token by default, takes a path (trailing slash dropped), and off turns the views off', async t => {
  t.equal(parseConfig({}).simplejwtPrefix, '/api/token')
  t.equal(parseConfig({ SIMPLEJWT_PREFIX: '/auth/jwt/' }).simplejwtPrefix, '/auth/jwt')
  t.equal(parseConfig({ SIMPLEJWT_PREFIX: 'off' }).simplejwtPrefix, null)
})

t.test('issue 14: the documented multi-host REDIS_URL values are accepted as written', async t => {
  for (const url of [
    'redis-cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103',
    'redis-sentinel://127.0.0.1:26411,127.0.0.1:26412,127.0.0.1:26413/mymaster',
    'redis-sentinel://host1:26379,host2:26379/mymaster/2',
    'rediss-cluster://:s%40cret@h1:6379,h2:6379',
  ]) t.equal(parseConfig({ REDIS_URL: url }).redisUrl, url, url)
})

t.test('issue 14: a bad multi-host REDIS_URL stops the start with one line naming REDIS_URL (exit 2), never the password', async t => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { ...process.env, DATABASE_URL: '', REDIS_URL: 'redis-cluster://:hunter2@127.0.0.1:7101,127.0.0.1:99999' }, encoding: 'utf8', timeout: 60_000,
  })
  t.equal(r.status, 2)
  t.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  t.match(r.stderr, /REDIS_URL: has a bad port/)
  t.notMatch(r.stderr + r.stdout, /hunter2/)
})
