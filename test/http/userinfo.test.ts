import t from 'tap'
import { adminRequest, basic, buildTestApp, createUser, login, PASSWORD, postToken, registerLoginClients, WEB_SECRET } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, services } = await buildTestApp(t, backend)
    await registerLoginClients(app)
    await adminRequest(app, 'POST', '/admin/clients', {
      client_id: 'svc', client_secret: WEB_SECRET, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'], scopes: ['openid', 'profile'],
    })
    const aliceId = await createUser(app, {
      username: 'Alice', password: PASSWORD, email: 'alice@example.com', claims: { tenant: 'acme', roles: ['reader'] },
    })
    const accessToken = async (username: string, scope: string) => {
      const r = await login(app, 'spa', { username, password: PASSWORD, scope })
      if (r.statusCode !== 200) throw new Error(r.body)
      return r.json().access_token as string
    }
    const userinfo = (token: string, method: 'GET' | 'POST' = 'GET') =>
      app.inject({ method, url: '/userinfo', headers: { authorization: `Bearer ${token}` } })

    for (const c of [
      { scope: 'openid', claims: {} },
      { scope: 'openid profile', claims: { preferred_username: 'Alice' } },
      { scope: 'openid email', claims: { email: 'alice@example.com' } },
      { scope: 'openid profile email read', claims: { preferred_username: 'Alice', email: 'alice@example.com' } },
    ]) {
      t.test(`scope "${c.scope}" sees sub, the custom claims and ${JSON.stringify(c.claims)}`, async t => {
        const token = await accessToken('alice', c.scope)
        for (const method of ['GET', 'POST'] as const) {
          const r = await userinfo(token, method)
          t.equal(r.statusCode, 200, r.body)
          t.equal(r.headers['cache-control'], 'no-store')
          t.same(r.json(), { sub: aliceId, tenant: 'acme', roles: ['reader'], ...c.claims }, method)
        }
      })
    }

    t.test('an access token without openid is 403 insufficient_scope', async t => {
      const r = await userinfo(await accessToken('alice', 'profile read'))
      t.equal(r.statusCode, 403)
      t.equal(r.json().error, 'insufficient_scope')
      t.match(r.headers['www-authenticate'], /error="insufficient_scope", scope="openid"/)
    })

    // RFC 6750 §3.1: no bearer credentials at all get a challenge without an error code.
    const refused: Array<{ name: string; headers: Record<string, string>; challenge: RegExp }> = [
      { name: 'no token', headers: {}, challenge: /^Bearer realm="sigil"$/ },
      { name: 'a malformed header', headers: { authorization: 'Bearer' }, challenge: /^Bearer .*error="invalid_token"/ },
      { name: 'not a JWT', headers: { authorization: 'Bearer abc.def' }, challenge: /^Bearer .*error="invalid_token"/ },
      { name: 'Basic credentials', headers: basic('web', WEB_SECRET), challenge: /^Bearer realm="sigil"$/ },
    ]
    for (const c of refused) {
      t.test(`${c.name} is 401 invalid_token`, async t => {
        const r = await app.inject({ method: 'GET', url: '/userinfo', headers: c.headers })
        t.equal(r.statusCode, 401)
        t.equal(r.json().error, 'invalid_token')
        t.match(r.headers['www-authenticate'], c.challenge)
      })
    }

    t.test('a client_credentials token, even with openid, speaks for no user', async t => {
      const r = await postToken(app, { grant_type: 'client_credentials', scope: 'openid' }, basic('svc', WEB_SECRET))
      const info = await userinfo(r.json().access_token)
      t.equal(info.statusCode, 401)
      t.equal(info.json().error, 'invalid_token')
    })

    t.test('the token of a user since disabled or deleted is 401 invalid_token', async t => {
      const id = await createUser(app, { username: 'carol', password: PASSWORD })
      const token = await accessToken('carol', 'openid')
      t.equal((await userinfo(token)).statusCode, 200)
      await services.db.prisma.user.update({ where: { id }, data: { disabled: true } })
      t.equal((await userinfo(token)).statusCode, 401, 'disabled')
      await services.db.prisma.user.update({ where: { id }, data: { disabled: false } })
      t.equal((await userinfo(token)).statusCode, 200)
      t.equal((await adminRequest(app, 'DELETE', `/admin/users/${id}`)).statusCode, 204)
      const r = await userinfo(token)
      t.equal(r.statusCode, 401, 'deleted')
      t.equal(r.json().error, 'invalid_token')
    })
  })
}
