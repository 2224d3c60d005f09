import t from 'tap'
import { ADMIN, basicAuthorization } from '../helpers/app.js'
import { runKeyMaintenance } from '../../src/keys/key-rotation.js'
import { backends, createPostgresDatabase, serverUrls } from '../helpers/backends.js'
import { fixedClock, sleep } from '../helpers/clock.js'
import { buildTestApps } from '../helpers/instances.js'
import { spawnService, type ServiceProcess } from '../helpers/process.js'

const servers = serverUrls()

async function adminToken(s: ServiceProcess): Promise<string> {
  const r = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }),
    headers: { authorization: basicAuthorization(ADMIN.clientId, ADMIN.clientSecret) },
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
    // Forced: the next key is younger than KEY_LEAD_TIME, and waiting it out proves nothing here.
    const r = await fetch(`${a.url}/admin/keys/rotate`, {
      method: 'POST', headers: { authorization: `Bearer ${await adminToken(a)}`, 'content-type': 'application/json' }, body: '{"alg":"ES256","force":true}',
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

  t.test('issue 15: automatic rotation with both running rotates once per interval, not twice (injected clock)', async t => {
    const intervalSec = 4
    const backend = backends().find(b => b.db === 'postgresql')!
    const clock = fixedClock()
    const [a, b] = await buildTestApps(t, backend, 2, { clock, config: { keyLeadTimeSec: 1, keyRotationIntervalSec: intervalSec } })
    const activations = async (alg: string) =>
      (await a!.services.keys.repo.listAll()).filter(k => k.alg === alg && k.activatedAt).map(k => k.activatedAt!.getTime()).sort((x, y) => x - y)
    const first = { ES256: await activations('ES256'), RS256: await activations('RS256') }
    // Both instances' maintenance runs at once, every quarter interval, over three intervals and a half.
    for (let step = 0; step < 14; step++) {
      clock.advance(intervalSec * 250)
      await Promise.all([runKeyMaintenance(a!.services.keys), runKeyMaintenance(b!.services.keys)])
    }
    for (const alg of ['ES256', 'RS256'] as const) {
      const times = await activations(alg)
      t.equal(times.length - first[alg].length, 3, `${alg}: three rotations in three intervals and a half`)
      for (let i = 1; i < times.length; i++) t.equal(times[i]! - times[i - 1]!, intervalSec * 1000, `${alg}: activations one interval apart`)
    }
  })
})
