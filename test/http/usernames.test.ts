import t from 'tap'
import { adminRequest, buildTestApp, createUser, login, PASSWORD, registerLoginClients } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

const subOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).sub as string

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app } = await buildTestApp(t, backend, { config: { rateLimitUserFailures: 2 } })
    await registerLoginClients(app)
    const aliceId = await createUser(app, { username: 'alice', password: PASSWORD })

    t.test('issue 11: a fullwidth or case twin of a username is the same username (RFC 8265)', async t => {
      for (const twin of ['\uff41lice', '\uff21\uff2c\uff29\uff23\uff25', 'ALICE', 'Alic\uff45']) {
        const r = await adminRequest(app, 'POST', '/admin/users', { username: twin, password: 'another password 123' })
        t.equal(r.statusCode, 409, `${JSON.stringify(twin)} is refused as a duplicate`)
        t.equal(r.json().error, 'conflict')
      }
    })

    t.test('issue 11: a username outside the profile is refused at registration', async t => {
      for (const username of ['alice\u2122', 'al\u200dice', '\ufb01sh', 'alice  smith']) {
        const r = await adminRequest(app, 'POST', '/admin/users', { username, password: PASSWORD })
        t.same([r.statusCode, r.json().error], [400, 'invalid_request'], JSON.stringify(username))
      }
    })

    t.test('issue 11: logging in as the fullwidth twin logs in as alice', async t => {
      const r = await login(app, 'spa', { username: '\uff41lice', password: PASSWORD })
      t.equal(r.statusCode, 200)
      t.equal(subOf(r.json().access_token), aliceId)
    })

    t.test('issue 11: a login username outside the profile is invalid_grant, never looked up', async t => {
      const r = await login(app, 'spa', { username: 'alice\u2122', password: PASSWORD })
      t.same([r.statusCode, r.json().error], [400, 'invalid_grant'])
    })

    t.test('issue 11: failures under a twin spelling count for the one username', async t => {
      for (const twin of ['\uff41lice', 'ALICE']) t.equal((await login(app, 'spa', { username: twin, password: 'wrong password' })).statusCode, 400)
      t.equal((await login(app, 'spa', { username: 'alice', password: PASSWORD })).statusCode, 429, 'alice is backing off')
    })
  })
}
