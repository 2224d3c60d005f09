import { randomBytes } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import { applyMigrations, loadMigrations, type Migration } from '../../src/db/migrate.js'
import { createPostgresDatabase, serverUrls } from '../helpers/backends.js'
import { httpRequest, startLoad } from '../helpers/load.js'
import { checkOutPrevious, commitBefore } from '../helpers/previous-version.js'
import { runCli, spawnService } from '../helpers/process.js'
import { PASSWORD as USER_PASSWORD } from '../helpers/app.js'
import { sigilHttp, WEB_BASIC, WEB_CLIENT } from '../helpers/sigil-http.js'

// Issue 14, deliverable 3: a migration applied while instances run. Two instances of the
// previous version (this tree as it was before its newest migration) serve logins, refreshes
// and client_credentials on a database at migration N-1; `sigil migrate` of this version
// applies migration N under that load (docs/operations.md, Upgrades: migrate first, then a
// rolling restart); no request fails, and an instance of this version then joins them.

const servers = serverUrls()
const migrations = await loadMigrations()
const newest = migrations.at(-1)!
const previous = servers ? await commitBefore(newest.name) : { skip: 'needs DATABASE_URL and REDIS_URL' }
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

async function migrateTo(url: string, list: Migration[]): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await applyMigrations({ query: async (text, params) => ({ rows: (await client.query(text, params)).rows }), exec: text => client.query(text) }, list)
  } finally {
    await client.end()
  }
}

t.test(`issue 14: ${newest.name} applied by \`sigil migrate\` while two instances of the previous version serve traffic: no request fails`, {
  skip: 'skip' in previous ? previous.skip : false, timeout: 90_000,
}, async t => {
  const commit = (previous as { commit: string }).commit
  const [databaseUrl, old] = await Promise.all([
    createPostgresDatabase(t).then(async url => { await migrateTo(url, migrations.slice(0, -1)); return url }),
    checkOutPrevious(t, commit),
  ])
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: servers!.redisUrl, ISSUER: 'http://sigil.test', RATE_LIMIT_IP_FAILURES: '0' }
  const instances = await Promise.all([spawnService(t, env, { cli: old.cli }), spawnService(t, env, { cli: old.cli })])
  const api = sigilHttp(instances[0]!.url)
  await api.createClient({ ...WEB_CLIENT, grant_types: ['password', 'refresh_token', 'client_credentials'], scopes: ['openid', 'read'] })
  const username = `m-${randomBytes(4).toString('hex')}`
  await api.createUser({ username, password: USER_PASSWORD })

  // Each loop: a login on one instance, a refresh of it on the other, a client_credentials token.
  const post = (agent: Parameters<typeof httpRequest>[0], base: string, form: Record<string, string>) => httpRequest(agent, `${base}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams(form).toString(), headers: { authorization: WEB_BASIC, 'content-type': 'application/x-www-form-urlencoded' },
  })
  const load = startLoad({
    concurrency: 3, pauseMs: 20, maxMs: 40_000,
    send: async (agent, n) => {
      const [a, b] = n % 2 === 0 ? instances : [instances[1]!, instances[0]!]
      if (n % 3 === 2) return post(agent, a!.url, { grant_type: 'client_credentials' })
      const login = await post(agent, a!.url, { grant_type: 'password', username, password: USER_PASSWORD, scope: 'openid read' })
      if (login.status !== 200) return login
      return post(agent, b!.url, { grant_type: 'refresh_token', refresh_token: String(JSON.parse(login.body).refresh_token) })
    },
    ok: a => a.status === 200,
  })
  await sleep(1500)
  const before = load.report().sent
  const startedAt = Date.now()
  const migrated = await runCli(process.cwd(), ['migrate'], { env: { DATABASE_URL: databaseUrl } })
  const migrateMs = Date.now() - startedAt
  const during = load.report().sent - before
  await sleep(1500)
  const current = await spawnService(t, env)
  const joined = await fetch(`${current.url}/oauth2/token`, {
    method: 'POST', headers: { authorization: WEB_BASIC }, body: new URLSearchParams({ grant_type: 'password', username, password: USER_PASSWORD, scope: 'read' }),
  })
  await sleep(500)
  const r = await load.stop()
  t.comment(`migration while running: previous version ${commit.slice(0, 10)}; \`sigil migrate\` took ${migrateMs} ms (${during} requests meanwhile); ` +
    `${r.sent} requests in all, statuses ${JSON.stringify(r.statuses)}, failures ${r.failures.length}`)

  t.equal(migrated.status, 0, migrated.stderr)
  t.same(JSON.parse(migrated.stdout || '{}').applied, [newest.name], 'the newest migration, and only it, was applied')
  t.same(r.failures, [], 'every login, refresh and client_credentials request on the previous version answered 200, before, during and after the migration')
  t.ok(during > 0, 'requests ran while the migration was applied')
  t.equal(joined?.status, 200, 'an instance of this version, started on the migrated database, logs the same user in')
  t.ok(instances.every(i => i.child.exitCode === null), 'the previous version\'s instances stayed up')
})
