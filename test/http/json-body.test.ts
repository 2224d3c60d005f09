import t from 'tap'
import { findRepeatedKey } from '../../src/http/json-body.js'
import { adminToken, basic, buildTestApp, createUser, PASSWORD, registerLoginClients, WEB_SECRET } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

t.test('findRepeatedKey finds a key repeated in one object, at any depth', async t => {
  for (const [json, repeated] of [
    ['{"a":1,"b":2}', undefined],
    ['{"a":1,"a":2}', 'a'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"a":{"b":1},"b":2}', undefined],
    ['{"a":{"b":1,"b":2}}', 'b'],
    ['[{"a":1},{"a":2}]', undefined],
    ['[{"a":[1,{"x":"a","y":"a"}],"b":{"a":"a"}}]', undefined],
    ['{"a\\"b":1,"c":{"d":[],"e":{}},"a\\"b":3}', 'a"b'],
    ['{"k":"{\\"k\\":1,","k":2}', 'k'],
    ['"a"', undefined],
    [`${'['.repeat(20_000)}${']'.repeat(20_000)}`, undefined],
  ] as const) t.equal(findRepeatedKey(json), repeated, json.slice(0, 40))
})

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app } = await buildTestApp(t, backend)
    await registerLoginClients(app)
    await createUser(app, { username: 'alice', password: PASSWORD })
    const token = await adminToken(app)
    const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload })

    t.test('issue 11: a JSON body with a repeated key is 400 invalid_request on every endpoint', async t => {
      for (const c of [
        { name: 'token: username twice', url: '/oauth2/token', payload: `{"grant_type":"password","client_id":"spa","username":"x","username":"alice","password":"${PASSWORD}"}` },
        { name: 'token: grant_type twice, escaped', url: '/oauth2/token', payload: '{"grant_type":"x","\\u0067rant_type":"client_credentials"}', headers: basic('web', WEB_SECRET) },
        { name: 'revoke: token twice', url: '/oauth2/revoke', payload: '{"token":"a","token":"b"}', headers: basic('web', WEB_SECRET) },
        { name: 'introspect: client_id twice', url: '/oauth2/introspect', payload: `{"client_id":"x","client_id":"web","client_secret":"${WEB_SECRET}","token":"a"}` },
        { name: 'admin: username twice', url: '/admin/users', payload: `{"username":"bob","username":"alice","password":"${PASSWORD}"}`, headers: { authorization: `Bearer ${token}` } },
        { name: 'admin: a repeated claim', url: '/admin/users', payload: `{"username":"carol","password":"${PASSWORD}","claims":{"x":1,"x":2}}`, headers: { authorization: `Bearer ${token}` } },
      ]) {
        t.test(c.name, async t => {
          const r = await post(c.url, c.payload, c.headers)
          t.equal(r.statusCode, 400)
          t.equal(r.json().error, 'invalid_request')
        })
      }
    })

    t.test('a key repeated only across objects is accepted', async t => {
      const r = await post('/admin/users', `{"username":"dave","password":"${PASSWORD}","claims":{"password":{"username":1}}}`, { authorization: `Bearer ${token}` })
      t.equal(r.statusCode, 201)
    })

    t.test('prototype poisoning is still refused, and an empty body still means no parameters', async t => {
      const poisoned = await post('/oauth2/token', '{"grant_type":"client_credentials","__proto__":{"x":1}}', basic('web', WEB_SECRET))
      t.same([poisoned.statusCode, poisoned.json().error], [400, 'invalid_request'])
      const empty = await post('/oauth2/revoke', '', basic('web', WEB_SECRET))
      t.same([empty.statusCode, empty.json().error_description], [400, 'token is required'])
    })

    t.test('a well-formed JSON token request still works', async t => {
      const r = await post('/oauth2/token', `{"grant_type":"password","client_id":"spa","username":"alice","password":"${PASSWORD}"}`)
      t.equal(r.statusCode, 200)
    })
  })
}
