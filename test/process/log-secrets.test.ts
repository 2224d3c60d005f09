import t from 'tap'
import { ADMIN, basicAuthorization } from '../helpers/app.js'
import { createPostgresDatabase, serverUrls } from '../helpers/backends.js'
import { TEST_KEK } from '../helpers/config.js'
import { spawnService } from '../helpers/process.js'
import { sigilHttp } from '../helpers/sigil-http.js'
import { sleep } from '../helpers/clock.js'
import { RACE_WINDOW_MS } from '../../src/store/family-ports.js'

const servers = serverUrls()
const CLIENT = { client_id: 'web', client_secret: 'web-secret-never-logged-0123456789-abcdef' }
const USER = { username: 'alice', password: 'password-never-logged-horse-battery' }

t.test('a full run logged at LOG_LEVEL=trace holds no secret', { skip: servers ? false : 'needs DATABASE_URL and REDIS_URL' }, async t => {
  const databaseUrl = await createPostgresDatabase(t, { migrate: true })
  const s = await spawnService(t, { DATABASE_URL: databaseUrl, REDIS_URL: servers!.redisUrl, LOG_LEVEL: 'trace', RATE_LIMIT_USER_FAILURES: '2' })
  const api = sigilHttp(s.url)
  await api.createClient({ ...CLIENT, grant_types: ['password', 'refresh_token', 'client_credentials'], scopes: ['openid', 'read'] })
  await api.createUser(USER)

  const secrets = new Set<string>([ADMIN.clientSecret, CLIENT.client_secret, USER.password, TEST_KEK, Buffer.from(TEST_KEK, 'hex').toString('base64')])
  const basic = (id: string, secret: string) => basicAuthorization(id, secret)
  secrets.add(basic(CLIENT.client_id, CLIENT.client_secret).slice('Basic '.length))
  secrets.add(basic(ADMIN.clientId, ADMIN.clientSecret).slice('Basic '.length))
  const post = async (path: string, form: Record<string, string>, headers: Record<string, string> = { authorization: basic(CLIENT.client_id, CLIENT.client_secret) }) => {
    const r = await fetch(`${s.url}${path}`, { method: 'POST', body: new URLSearchParams(form), headers })
    const text = await r.text()
    const body = text ? JSON.parse(text) as Record<string, string> : {}
    for (const k of ['access_token', 'refresh_token', 'id_token']) if (body[k]) secrets.add(body[k])
    return { status: r.status, body }
  }
  // Every kind of request that carries a credential, successful or not.
  const first = await post('/oauth2/token', { grant_type: 'password', ...USER, scope: 'openid read' })
  t.equal(first.status, 200)
  const rt = first.body.refresh_token!
  secrets.add(rt.split('.')[1]!)
  const second = await post('/oauth2/token', { grant_type: 'refresh_token', refresh_token: rt })
  t.equal(second.status, 200)
  secrets.add(second.body.refresh_token!.split('.')[1]!)
  await sleep(RACE_WINDOW_MS + 100) // past the concurrent-duplicate window: the next use is reuse
  t.equal((await post('/oauth2/token', { grant_type: 'refresh_token', refresh_token: rt })).body.error, 'invalid_grant', 'reuse detected')
  const third = await post('/oauth2/token', { grant_type: 'password', ...USER, scope: 'openid read' })
  t.equal((await post('/oauth2/introspect', { token: third.body.access_token! })).body.active, true)
  const userinfo = await fetch(`${s.url}/userinfo`, { headers: { authorization: `Bearer ${third.body.access_token}` } })
  t.equal(userinfo.status, 200)
  t.equal((await fetch(`${s.url}/userinfo?access_token=${third.body.access_token}`)).status, 401, 'a token in the query is refused (and not logged)')
  t.equal((await post('/oauth2/revoke', { token: third.body.refresh_token! })).status, 200)
  t.equal((await post('/oauth2/token', { grant_type: 'client_credentials', client_id: CLIENT.client_id, client_secret: CLIENT.client_secret }, {})).status, 200, 'client_secret_post')
  const wrongSecret = 'wrong-secret-also-never-logged-0123456789'
  secrets.add(wrongSecret)
  t.equal((await post('/oauth2/token', { grant_type: 'client_credentials' }, { authorization: basic(CLIENT.client_id, wrongSecret) })).status, 401)
  const wrongPassword = 'wrong-password-never-logged-either'
  secrets.add(wrongPassword)
  for (let i = 0; i < 3; i++) await post('/oauth2/token', { grant_type: 'password', username: USER.username, password: wrongPassword })
  await fetch(`${s.url}/oauth2/token?client_secret=${CLIENT.client_secret}&password=${USER.password}`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) })
  const malformed = await fetch(`${s.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"grant_type":"password","password":"${USER.password}"` })
  t.equal(malformed.status, 400, 'malformed JSON holding the password')

  t.equal(await s.stop(), 0)
  const log = s.output()
  t.ok(log.split('\n').filter(Boolean).length > 25, 'the run was logged (one access line per request)')
  for (const event of ['token_issued', 'refresh_token_reuse', '"event":"login"', 'request completed']) t.match(log, event, `the log has ${event}`)
  const leaked = [...secrets].filter(secret => log.includes(secret))
  t.same(leaked.map(x => `${x.slice(0, 12)}…`), [], `none of ${secrets.size} secrets (secrets, password, KEK, tokens) is in ${log.length} bytes of log`)
})
