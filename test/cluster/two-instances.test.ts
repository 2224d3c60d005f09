import t from 'tap'
import pg from 'pg'
import { ADMIN } from '../helpers/app.js'
import { createPostgresDatabase, serverUrls } from '../helpers/backends.js'
import { spawnService, type ServiceProcess } from '../helpers/process.js'

const servers = serverUrls()
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

async function adminToken(s: ServiceProcess): Promise<string> {
  const r = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }),
    headers: { authorization: 'Basic ' + Buffer.from(`${ADMIN.clientId}:${ADMIN.clientSecret}`).toString('base64') },
  })
  return ((await r.json()) as { access_token: string }).access_token
}

async function kids(s: ServiceProcess): Promise<string[]> {
  const body = (await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }
  return body.keys.map(k => k.kid)
}

t.test('two instances on one PostgreSQL and one Redis', { skip: servers ? false : 'needs DATABASE_URL and REDIS_URL' }, async t => {
  t.test('a rotation through one instance is served by the other within 5 s', async t => {
    const databaseUrl = await createPostgresDatabase(t, { migrate: true })
    const env = { DATABASE_URL: databaseUrl, REDIS_URL: servers!.redisUrl, ISSUER: 'http://sigil.test', KEY_LEAD_TIME: '1', JWKS_MAX_AGE: '0', KEY_ROTATION_INTERVAL: '0' }
    const [a, b] = await Promise.all([spawnService(t, env), spawnService(t, env)])
    t.same(new Set(await kids(a)), new Set(await kids(b)), 'both start from the same keys')
    await sleep(1100)
    const r = await fetch(`${a.url}/admin/keys/rotate`, {
      method: 'POST', headers: { authorization: `Bearer ${await adminToken(a)}`, 'content-type': 'application/json' }, body: '{"alg":"ES256"}',
    })
    t.equal(r.status, 200)
    const fresh = ((await r.json()) as { next: { kid: string } }).next.kid
    const started = Date.now()
    while (!(await kids(b)).includes(fresh) && Date.now() - started < 5000) await sleep(50)
    const tookMs = Date.now() - started
    t.ok((await kids(b)).includes(fresh), `the other instance published the new key after ${tookMs} ms`)
    t.ok(tookMs < 5000)
    const token = await adminToken(b)
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }
    const result = (await (await fetch(`${a.url}/admin/keys`, { headers: { authorization: `Bearer ${token}` } })).json()) as { keys: Array<{ kid: string; state: string }> }
    t.equal(result.keys.find(k => k.kid === header.kid)?.state, 'current', 'the other instance signs with the new current key')
  })

  t.test('automatic rotation with both running rotates once per interval, not twice', async t => {
    const databaseUrl = await createPostgresDatabase(t, { migrate: true })
    const intervalSec = 4
    const env = { DATABASE_URL: databaseUrl, REDIS_URL: servers!.redisUrl, KEY_LEAD_TIME: '1', JWKS_MAX_AGE: '0', KEY_ROTATION_INTERVAL: String(intervalSec) }
    await Promise.all([spawnService(t, env), spawnService(t, env)])
    await sleep(3 * intervalSec * 1000 + 1500)
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    t.teardown(() => client.end())
    for (const alg of ['ES256', 'RS256']) {
      const { rows } = await client.query<{ activated_at: Date }>(
        `SELECT activated_at FROM signing_keys WHERE alg = $1 AND activated_at IS NOT NULL ORDER BY activated_at`, [alg])
      const rotations = rows.length - 1
      // At most one rotation per interval since the first key became current (two instances
      // rotating each time would double this), and the timer did keep up.
      const elapsedSec = (Date.now() - rows[0]!.activated_at.getTime()) / 1000
      t.ok(rotations >= 2 && rotations <= Math.floor(elapsedSec / intervalSec), `${alg}: ${rotations} rotations in ${elapsedSec.toFixed(1)} s`)
      for (let i = 1; i < rows.length; i++) {
        const gapMs = rows[i]!.activated_at.getTime() - rows[i - 1]!.activated_at.getTime()
        t.ok(gapMs >= intervalSec * 1000, `${alg}: activations ${gapMs} ms apart`)
      }
    }
  })
})
