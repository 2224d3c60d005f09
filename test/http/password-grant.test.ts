import { hash, parseOptions } from '@node-rs/argon2'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import t from 'tap'
import {
  adminRequest, basic, buildTestApp, createUser, login, type LoginClient, PASSWORD, registerLoginClients, WEB_SECRET,
} from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, services } = await buildTestApp(t, backend)
    await registerLoginClients(app)
    await adminRequest(app, 'POST', '/admin/clients', {
      client_id: 'svc', client_secret: WEB_SECRET, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'], scopes: ['read'],
    })
    const aliceId = await createUser(app, { username: 'Alice', password: PASSWORD, email: 'alice@example.com' })
    const daveId = await createUser(app, { username: 'dave', password: PASSWORD })
    await services.db.prisma.user.update({ where: { id: daveId }, data: { disabled: true } })
    const goneId = await createUser(app, { username: 'gone', password: PASSWORD })
    t.equal((await adminRequest(app, 'DELETE', `/admin/users/${goneId}`)).statusCode, 204)
    const jwks = () => createLocalJWKSet(JSON.parse(services.ring.jwks().body))

    for (const [client, alg] of [['spa', 'ES256'], ['web', 'RS256']] as Array<[LoginClient, string]>) {
      t.test(`a ${client === 'spa' ? 'public' : 'confidential'} client logs a user in`, async t => {
        const r = await login(app, client, { username: 'alice', password: PASSWORD, scope: 'read' })
        t.equal(r.statusCode, 200, r.body)
        t.equal(r.headers['cache-control'], 'no-store')
        const body = r.json()
        t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'], 'no id_token without openid')
        t.equal(body.scope, 'read')
        t.same(decodeProtectedHeader(body.access_token), { alg, kid: decodeProtectedHeader(body.access_token).kid, typ: 'at+jwt' })
        const { payload } = await jwtVerify(body.access_token, jwks(), {
          issuer: services.config.issuer, audience: services.config.issuer, typ: 'at+jwt', currentDate: new Date(services.clock.now()),
        })
        t.equal(payload.sub, aliceId, 'sub is the user id')
        t.equal(payload.client_id, client)
        t.equal(payload.scope, 'read')
      })
    }

    t.test('usernames match case-insensitively and in any Unicode composition', async t => {
      await createUser(app, { username: 'Zo\u00eb', password: PASSWORD })
      for (const username of ['zo\u00eb', 'ZO\u00cb', 'Zoe\u0308', 'ZOE\u0308']) {
        t.equal((await login(app, 'spa', { username, password: PASSWORD })).statusCode, 200, JSON.stringify(username))
      }
    })

    t.test('no scope asked: every scope of the client, openid included, so an ID token too', async t => {
      const body = (await login(app, 'web', { username: 'alice', password: PASSWORD })).json()
      t.equal(body.scope, 'openid profile email read')
      t.type(body.id_token, 'string')
    })

    t.test('the password is compared in NFC (RFC 8265)', async t => {
      await createUser(app, { username: 'nfc', password: 'cr\u00e8me br\u00fbl\u00e9e' })
      const r = await login(app, 'spa', { username: 'nfc', password: 'cre\u0300me bru\u0302le\u0301e' })
      t.equal(r.statusCode, 200, r.body)
    })

    const cases: Array<{ name: string; client: LoginClient; fields: Record<string, string>; headers?: Record<string, string>; status: number; error: string }> = [
      { name: 'wrong password', client: 'spa', fields: { username: 'alice', password: 'wrong password' }, status: 400, error: 'invalid_grant' },
      { name: 'unknown user', client: 'spa', fields: { username: 'nobody', password: PASSWORD }, status: 400, error: 'invalid_grant' },
      { name: 'disabled user', client: 'web', fields: { username: 'dave', password: PASSWORD }, status: 400, error: 'invalid_grant' },
      { name: 'deleted user', client: 'web', fields: { username: 'gone', password: PASSWORD }, status: 400, error: 'invalid_grant' },
      { name: 'missing username', client: 'spa', fields: { password: PASSWORD }, status: 400, error: 'invalid_request' },
      { name: 'empty username', client: 'spa', fields: { username: '', password: PASSWORD }, status: 400, error: 'invalid_request' },
      { name: 'missing password', client: 'web', fields: { username: 'alice' }, status: 400, error: 'invalid_request' },
      { name: 'a password over 256 characters', client: 'spa', fields: { username: 'alice', password: 'x'.repeat(257) }, status: 400, error: 'invalid_request' },
      { name: 'scope outside the client', client: 'spa', fields: { username: 'alice', password: PASSWORD, scope: 'read admin' }, status: 400, error: 'invalid_scope' },
      { name: 'client not allowed the password grant', client: 'web', fields: { username: 'alice', password: PASSWORD }, headers: basic('svc', WEB_SECRET), status: 400, error: 'unauthorized_client' },
      { name: 'confidential client with a wrong secret', client: 'web', fields: { username: 'alice', password: PASSWORD }, headers: basic('web', 'not-the-secret'), status: 401, error: 'invalid_client' },
    ]
    for (const c of cases) {
      t.test(`refuses: ${c.name}`, async t => {
        const r = await login(app, c.client, c.fields, { headers: c.headers ?? {} })
        t.equal(r.statusCode, c.status, r.body)
        t.equal(r.json().error, c.error)
        t.type(r.json().error_description, 'string')
        t.equal(r.headers['cache-control'], 'no-store')
      })
    }

    t.test('an unknown user and a wrong password get the same answer', async t => {
      const wrong = await login(app, 'spa', { username: 'alice', password: 'not the password' })
      const unknown = await login(app, 'spa', { username: 'no-such-user', password: 'not the password' })
      const disabled = await login(app, 'spa', { username: 'dave', password: PASSWORD })
      const shape = (r: typeof wrong) => ({ status: r.statusCode, body: r.body, headers: { ...r.headers, date: 'any' } })
      t.same(shape(unknown), shape(wrong))
      t.same(shape(disabled), shape(wrong))
    })

    t.test('a hash with weaker parameters is upgraded at the next login', async t => {
      const weak = await hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 })
      const id = 'b9f4c7de-0000-4000-8000-000000000001'
      await services.users.repo.create({ id, username: 'old', usernameNormalized: 'old', email: null, claims: {}, passwordHash: weak })
      t.equal((await login(app, 'spa', { username: 'old', password: PASSWORD })).statusCode, 200)
      const stored = (await services.users.repo.find(id))!.passwordHash
      t.not(stored, weak)
      t.match(parseOptions(stored), { memoryCost: 19456, timeCost: 2, parallelism: 1 })
      t.equal((await login(app, 'spa', { username: 'old', password: PASSWORD })).statusCode, 200, 'the new hash verifies')
    })

    t.test('discovery lists the password grant', async t => {
      const doc = (await app.inject('/.well-known/openid-configuration')).json()
      t.ok(doc.grant_types_supported.includes('password'))
    })
  })
}
