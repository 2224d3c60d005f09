import t from 'tap'
import { ADMIN, adminRequest, basic, buildTestApp, login, PASSWORD, postToken, registerLoginClients, WEB_SECRET } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, services } = await buildTestApp(t, backend)
    await registerLoginClients(app)

    t.test('POST /admin/users creates a user; the password is stored only as argon2id', async t => {
      const r = await adminRequest(app, 'POST', '/admin/users', { username: 'Erin', password: PASSWORD, email: 'erin@example.com', claims: { team: 'blue' } })
      t.equal(r.statusCode, 201, r.body)
      t.equal(r.headers['cache-control'], 'no-store')
      t.same(Object.keys(r.json()).sort(), ['id', 'username'])
      t.match(r.json(), { id: UUID, username: 'Erin' })
      const stored = await services.users.repo.find(r.json().id)
      t.match(stored, { username: 'Erin', usernameNormalized: 'erin', email: 'erin@example.com', claims: { team: 'blue' }, disabled: false })
      t.match(stored!.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
      t.notOk(stored!.passwordHash.includes(PASSWORD))
      t.equal((await login(app, 'spa', { username: 'erin', password: PASSWORD })).statusCode, 200)
    })

    t.test('a username taken in any case or composition is 409', async t => {
      t.equal((await adminRequest(app, 'POST', '/admin/users', { username: 'R\u00e9mi', password: PASSWORD })).statusCode, 201)
      for (const username of ['R\u00e9mi', 'r\u00c9MI', 'Re\u0301mi']) {
        const r = await adminRequest(app, 'POST', '/admin/users', { username, password: PASSWORD })
        t.equal(r.statusCode, 409, JSON.stringify(username))
        t.equal(r.json().error, 'conflict')
      }
    })

    const invalid: Array<{ name: string; payload: unknown }> = [
      { name: 'no username', payload: { password: PASSWORD } },
      { name: 'no password', payload: { username: 'x1' } },
      { name: 'empty username', payload: { username: '', password: PASSWORD } },
      { name: 'username with spaces around it', payload: { username: ' x2 ', password: PASSWORD } },
      { name: 'username with a control character', payload: { username: 'x\u00003', password: PASSWORD } },
      { name: 'username over 128 characters', payload: { username: 'u'.repeat(129), password: PASSWORD } },
      { name: 'username not a string', payload: { username: 42, password: PASSWORD } },
      { name: 'password of 7 characters', payload: { username: 'x4', password: '1234567' } },
      { name: 'password of 257 characters', payload: { username: 'x5', password: 'p'.repeat(257) } },
      { name: 'password of 60 000 characters', payload: { username: 'x6', password: 'p'.repeat(60_000) } },
      { name: 'malformed email', payload: { username: 'x7', password: PASSWORD, email: 'not-an-email' } },
      { name: 'claims not an object', payload: { username: 'x8', password: PASSWORD, claims: ['a'] } },
      { name: 'claims a string', payload: { username: 'x9', password: PASSWORD, claims: '{}' } },
      { name: 'claims over 4 KB', payload: { username: 'x10', password: PASSWORD, claims: { big: 'b'.repeat(5000) } } },
      { name: 'claims nested 9 deep', payload: { username: 'x12', password: PASSWORD, claims: JSON.parse('{"a":'.repeat(9) + '1' + '}'.repeat(9)) } },
      { name: 'username with a lone surrogate', payload: { username: 'x\uD800', password: PASSWORD } },
      ...['sub', 'iss', 'aud', 'exp', 'iat', 'jti', 'scope', 'client_id', 'sid', 'auth_time', 'email', 'preferred_username'].map(claim => (
        { name: `claims overriding ${claim}`, payload: { username: 'x11', password: PASSWORD, claims: { [claim]: 'mine' } } })),
      { name: 'an unknown field', payload: { username: 'x12', password: PASSWORD, admin: true } },
      { name: 'a JSON array body', payload: [{ username: 'x13', password: PASSWORD }] },
    ]
    for (const c of invalid) {
      t.test(`400 invalid_request: ${c.name}`, async t => {
        const r = await adminRequest(app, 'POST', '/admin/users', c.payload)
        t.equal(r.statusCode, 400, r.body)
        t.equal(r.json().error, 'invalid_request')
      })
    }

    t.test('claims nested 5,000 deep are a 400, not a stack overflow', async t => {
      const { access_token: token } = (await postToken(app, { grant_type: 'client_credentials' }, basic(ADMIN.clientId, ADMIN.clientSecret))).json()
      const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)
      const r = await app.inject({
        method: 'POST', url: '/admin/users', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: `{"username":"deep","password":"${PASSWORD}","claims":${deep}}`,
      })
      t.equal(r.statusCode, 400, r.body)
      t.equal(r.json().error, 'invalid_request')
    })

    t.test('a password of exactly 8 and of exactly 256 characters (code points) is accepted', async t => {
      for (const [username, password] of [['len8', '12345678'], ['len256', '\u{1F511}'.repeat(256)]] as const) {
        t.equal((await adminRequest(app, 'POST', '/admin/users', { username, password })).statusCode, 201, username)
        t.equal((await login(app, 'spa', { username, password })).statusCode, 200)
      }
    })

    t.test('DELETE /admin/users/:id is 204, then 404', async t => {
      const id = (await adminRequest(app, 'POST', '/admin/users', { username: 'frank', password: PASSWORD })).json().id
      t.equal((await adminRequest(app, 'DELETE', `/admin/users/${id}`)).statusCode, 204)
      const again = await adminRequest(app, 'DELETE', `/admin/users/${id}`)
      t.equal(again.statusCode, 404)
      t.equal(again.json().error, 'not_found')
      t.equal((await adminRequest(app, 'DELETE', '/admin/users/not-a-uuid')).statusCode, 404)
      t.equal((await login(app, 'spa', { username: 'frank', password: PASSWORD })).json().error, 'invalid_grant')
    })

    t.test('the user routes need an admin token', async t => {
      const anonymous = await app.inject({ method: 'POST', url: '/admin/users', payload: { username: 'g', password: PASSWORD } })
      t.equal(anonymous.statusCode, 401)
      await adminRequest(app, 'POST', '/admin/clients', {
        client_id: 'svc', client_secret: WEB_SECRET, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'], scopes: ['read'],
      })
      const token = (await postToken(app, { grant_type: 'client_credentials' }, basic('svc', WEB_SECRET))).json().access_token
      const r = await app.inject({ method: 'DELETE', url: '/admin/users/x', headers: { authorization: `Bearer ${token}` } })
      t.equal(r.statusCode, 403)
      const user = (await login(app, 'spa', { username: 'erin', password: PASSWORD, scope: 'read' })).json().access_token
      const u = await app.inject({ method: 'POST', url: '/admin/users', headers: { authorization: `Bearer ${user}` }, payload: { username: 'h', password: PASSWORD } })
      t.equal(u.statusCode, 403, "a user's token lacks scope admin")
    })
  })
}
