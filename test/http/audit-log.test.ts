import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../../src/log.js'
import { ADMIN, adminToken, basic, createUser, login, postToken, registerLoginClients, WEB_SECRET } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { buildTestApps } from '../helpers/instances.js'

const PASSWORDS = ['Sesame-open-7f3a9c2e', 'Unicorn-ride-4b8d1e6f']

for (const backend of backends()) {
  t.test(`${backend.name}: a full run at level trace logs audit lines and no secret`, async t => {
    const lines: string[] = []
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done() } })
    const app = (await buildTestApps(t, backend, 1, { log: createLogger('trace', sink) }))[0]!.app
    const secrets: string[] = [ADMIN.clientSecret, WEB_SECRET, ...PASSWORDS]

    const admin = await adminToken(app)
    secrets.push(admin)
    await registerLoginClients(app)
    const generated = await app.inject({
      method: 'POST', url: '/admin/clients', headers: { authorization: `Bearer ${admin}` },
      payload: { client_id: 'gen', token_endpoint_auth_method: 'client_secret_post', grant_types: ['password'], scopes: ['openid'] },
    })
    secrets.push(generated.json().client_secret)
    const ids = [await createUser(app, { username: 'alice', password: PASSWORDS[0]! }), await createUser(app, { username: 'bob', password: PASSWORDS[1]! })]

    for (const client of ['spa', 'web'] as const) {
      const r = await login(app, client, { username: 'alice', password: PASSWORDS[0]!, scope: 'openid profile' })
      t.equal(r.statusCode, 200, r.body)
      secrets.push(r.json().access_token, r.json().id_token)
      t.equal((await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${r.json().access_token}` } })).statusCode, 200)
    }
    const post = await postToken(app, { grant_type: 'password', client_id: 'gen', client_secret: generated.json().client_secret, username: 'bob', password: PASSWORDS[1]! })
    t.equal(post.statusCode, 200, post.body)
    secrets.push(post.json().access_token, post.json().id_token)
    t.equal((await login(app, 'spa', { username: 'alice', password: PASSWORDS[1]! })).statusCode, 400, 'wrong password')
    t.equal((await login(app, 'web', { username: 'nobody', password: PASSWORDS[0]! })).statusCode, 400, 'unknown user')
    t.equal((await postToken(app, { grant_type: 'password', username: 'bob', password: PASSWORDS[1]! }, basic('web', PASSWORDS[0]!))).statusCode, 401)
    t.equal((await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${secrets.at(-1)}` } })).statusCode, 401, 'an ID token at /userinfo')
    await app.close()

    const log = lines.join('')
    const accessLines = log.split('\n').filter(l => l.includes('"msg":"request completed"'))
    t.ok(accessLines.length > 5, 'access lines were written')
    t.notOk(log.includes('"msg":"incoming request"'), 'one access line per request, not two (issue 12)')
    for (const secret of secrets) {
      t.type(secret, 'string')
      t.notOk(log.includes(secret), `${secret.slice(0, 6)}… never reaches the log`)
      if (secret.split('.').length === 3) t.notOk(log.includes(secret.split('.')[2]!), 'nor does a token signature')
    }
    const events = log.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>).filter(e => e.event !== undefined)
    const logins = events.filter(e => e.event === 'login')
    t.match(logins, [
      { outcome: 'success', user_id: ids[0], client_id: 'spa', ip: '127.0.0.1' },
      { outcome: 'success', user_id: ids[0], client_id: 'web', ip: '127.0.0.1' },
      { outcome: 'success', user_id: ids[1], client_id: 'gen', ip: '127.0.0.1' },
      { outcome: 'failure', user_id: ids[0], client_id: 'spa', ip: '127.0.0.1' },
      { outcome: 'failure', client_id: 'web', ip: '127.0.0.1' },
    ])
    t.equal(logins.length, 5, 'one line per login')
    t.notOk(logins[4]!.user_id, 'no user id for an unknown user')
    const issued = events.filter(e => e.event === 'token_issued' && e.grant_type === 'password')
    t.match(issued, [
      { outcome: 'success', sub: ids[0], client_id: 'spa', ip: '127.0.0.1' },
      { outcome: 'success', sub: ids[0], client_id: 'web', ip: '127.0.0.1' },
      { outcome: 'success', sub: ids[1], client_id: 'gen', ip: '127.0.0.1' },
    ])
    t.equal(issued.length, 3, 'one line per token response')
  })
}
