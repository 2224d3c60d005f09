import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import t from 'tap'
import { buildTestApp, createUser, login, type LoginClient, PASSWORD, registerLoginClients } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app, services, clock } = await buildTestApp(t, backend)
    await registerLoginClients(app)
    const aliceId = await createUser(app, { username: 'Alice', password: PASSWORD, email: 'alice@example.com', claims: { tenant: 'acme' } })
    await createUser(app, { username: 'bob', password: PASSWORD })
    const verify = (idToken: string, client: string) => jwtVerify(idToken, createLocalJWKSet(JSON.parse(services.ring.jwks().body)), {
      issuer: services.config.issuer, audience: client, typ: 'JWT', currentDate: new Date(clock.now()),
    })

    for (const [client, alg] of [['spa', 'ES256'], ['web', 'RS256']] as Array<[LoginClient, string]>) {
      t.test(`with openid granted, ${client} gets an OIDC Core §2 ID token signed ${alg}`, async t => {
        const r = await login(app, client, { username: 'alice', password: PASSWORD, scope: 'openid' })
        t.equal(r.statusCode, 200, r.body)
        const body = r.json()
        const header = decodeProtectedHeader(body.id_token)
        t.equal(header.typ, 'JWT')
        t.equal(header.alg, alg)
        t.ok(services.ring.verificationKey(header.kid!), 'signed by a published key')
        const { payload } = await verify(body.id_token, client)
        t.same(Object.keys(payload).sort(), ['aud', 'auth_time', 'exp', 'iat', 'iss', 'sub'], 'no user claims without profile/email')
        t.equal(payload.sub, aliceId)
        t.equal(payload.aud, client)
        t.equal(payload.iss, services.config.issuer)
        t.equal(payload.iat, Math.floor(clock.now() / 1000))
        t.equal(payload.auth_time, Math.floor(clock.now() / 1000))
        t.equal(payload.exp! - payload.iat!, body.expires_in)
      })
    }

    for (const c of [
      { scope: 'openid profile', user: 'alice', claims: { preferred_username: 'Alice' } },
      { scope: 'openid email', user: 'alice', claims: { email: 'alice@example.com' } },
      { scope: 'openid profile email', user: 'alice', claims: { preferred_username: 'Alice', email: 'alice@example.com' } },
      { scope: 'openid email', user: 'bob', claims: {} },
    ]) {
      t.test(`scope "${c.scope}" for ${c.user} releases ${JSON.stringify(c.claims)}`, async t => {
        const r = await login(app, 'spa', { username: c.user, password: PASSWORD, scope: c.scope })
        const { payload } = await verify(r.json().id_token, 'spa')
        const released = Object.fromEntries(Object.entries(payload).filter(([k]) => !['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time'].includes(k)))
        t.same(released, c.claims, 'custom claims stay out of the ID token')
      })
    }

    t.test('an ID token is never accepted as an access token', async t => {
      const idToken = (await login(app, 'web', { username: 'alice', password: PASSWORD, scope: 'openid profile' })).json().id_token
      for (const [method, url] of [['GET', '/userinfo'], ['POST', '/userinfo'], ['GET', '/admin/clients'], ['GET', '/admin/keys']] as const) {
        const r = await app.inject({ method, url, headers: { authorization: `Bearer ${idToken}` } })
        t.equal(r.statusCode, 401, `${method} ${url}`)
        t.equal(r.json().error, 'invalid_token')
        t.match(r.headers['www-authenticate'], /^Bearer .*error="invalid_token"/)
      }
    })
  })
}
