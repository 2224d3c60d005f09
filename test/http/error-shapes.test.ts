import { connect } from 'node:net'
import t from 'tap'
import { basic, buildTestApp, registerLoginClients, WEB_SECRET } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { startTestServer } from '../helpers/server.js'

const form = { 'content-type': 'application/x-www-form-urlencoded' }

/** Writes raw bytes to a listening server and reads the answer until it closes the connection. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request))
    let answer = ''
    socket.on('data', chunk => { answer += chunk.toString('latin1') })
    socket.on('close', () => resolve(answer))
    socket.on('error', reject)
  })
}

/** Status, headers (lower-cased names) and JSON body of a raw HTTP/1.1 answer. */
function parseAnswer(raw: string) {
  const [head, body] = [raw.slice(0, raw.indexOf('\r\n\r\n')), raw.slice(raw.indexOf('\r\n\r\n') + 4)]
  const [statusLine, ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(lines.map(l => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
  return { status: Number(statusLine!.split(' ')[1]), headers, body: JSON.parse(body) as unknown }
}

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app } = await buildTestApp(t, backend)
    await registerLoginClients(app)

    t.test('issue 11: every refusal Sigil or Fastify writes is {error, error_description}', async t => {
      for (const c of [
        { name: '404 unknown path', req: { method: 'GET', url: '/nope' }, status: 404, error: 'not_found' },
        { name: '405 POST on a GET route', req: { method: 'POST', url: '/.well-known/jwks.json' }, status: 405, error: 'method_not_allowed', allow: 'GET, HEAD' },
        { name: '405 GET on the token endpoint', req: { method: 'GET', url: '/oauth2/token' }, status: 405, error: 'method_not_allowed', allow: 'POST' },
        { name: '405 PUT on /userinfo', req: { method: 'PUT', url: '/userinfo' }, status: 405, error: 'method_not_allowed', allow: 'GET, HEAD, POST' },
        { name: '405 PUT on an admin path with a parameter', req: { method: 'PUT', url: '/admin/clients/web' }, status: 405, error: 'method_not_allowed', allow: 'DELETE, GET, HEAD, PATCH' },
        { name: '415 text/plain body', req: { method: 'POST', url: '/oauth2/token', headers: { 'content-type': 'text/plain' }, payload: 'x' }, status: 415, error: 'invalid_request' },
        { name: '400 malformed JSON', req: { method: 'POST', url: '/oauth2/token', headers: { 'content-type': 'application/json' }, payload: '{x' }, status: 400, error: 'invalid_request' },
        { name: '400 malformed form encoding', req: { method: 'POST', url: '/oauth2/token', headers: form, payload: 'grant_type=%zz' }, status: 400, error: 'invalid_request' },
        { name: '400 undecodable URL', req: { method: 'GET', url: '/oauth2/%E0%A4%A' }, status: 400, error: 'invalid_request' },
        { name: '413 body too large', req: { method: 'POST', url: '/oauth2/token', headers: form, payload: 'a='.padEnd(70_000, 'a') }, status: 413, error: 'invalid_request' },
      ] as const) {
        t.test(c.name, async t => {
          const r = await app.inject(c.req)
          t.equal(r.statusCode, c.status)
          t.same(Object.keys(r.json()).sort(), ['error', 'error_description'])
          t.equal(r.json().error, c.error)
          if ('allow' in c) t.equal(r.headers.allow, c.allow)
        })
      }
    })

    t.test('issue 11: every 401 carries the right challenge (RFC 9110 §15.5.2, RFC 6750 §3.1)', async t => {
      for (const c of [
        { name: 'token endpoint, wrong secret by client_secret_post', url: '/oauth2/token', headers: form, payload: `grant_type=client_credentials&client_id=web&client_secret=${WEB_SECRET}x`, challenge: /^Basic realm="sigil"$/ },
        { name: 'token endpoint, wrong secret by Basic', url: '/oauth2/token', headers: { ...form, ...basic('web', 'wrong') }, payload: 'grant_type=client_credentials', challenge: /^Basic realm="sigil"$/ },
        { name: 'token endpoint, no client authentication', url: '/oauth2/token', headers: form, payload: 'grant_type=client_credentials', challenge: /^Basic realm="sigil"$/ },
        { name: 'introspection by a public client', url: '/oauth2/introspect', headers: form, payload: 'client_id=spa&token=x', challenge: /^Basic realm="sigil"$/ },
        { name: '/userinfo without credentials', method: 'GET', url: '/userinfo', challenge: /^Bearer realm="sigil"$/ },
        { name: '/admin without credentials', method: 'GET', url: '/admin/keys', challenge: /^Bearer realm="sigil"$/ },
        { name: '/admin with Basic credentials', method: 'GET', url: '/admin/keys', headers: basic('web', WEB_SECRET), challenge: /^Bearer realm="sigil"$/ },
        { name: '/admin with a bad bearer token', method: 'GET', url: '/admin/keys', headers: { authorization: 'Bearer abc' }, challenge: /^Bearer realm="sigil", error="invalid_token"$/ },
      ]) {
        t.test(c.name, async t => {
          const r = await app.inject({ method: (c.method ?? 'POST') as 'GET' | 'POST', url: c.url, headers: c.headers ?? {}, payload: c.payload })
          t.equal(r.statusCode, 401)
          t.match(r.headers['www-authenticate'], c.challenge)
          t.same(Object.keys(r.json()).sort(), ['error', 'error_description'])
        })
      }
    })
  })
}

t.test('issue 11: what Node\'s HTTP parser refuses is answered in the same shape', async t => {
  const { issuer } = await startTestServer(t, backends()[0]!)
  const port = Number(new URL(issuer).port)
  for (const c of [
    { name: '431 oversized headers', request: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431 },
    { name: '400 unparsable request line', request: 'NOT HTTP AT ALL\r\n\r\n', status: 400 },
    { name: '400 bad header line', request: 'GET /healthz HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n', status: 400 },
  ]) {
    t.test(c.name, async t => {
      const answer = parseAnswer(await rawExchange(port, c.request))
      t.equal(answer.status, c.status)
      t.match(answer.headers['content-type'], /^application\/json/)
      t.same(answer.body, { error: 'invalid_request', error_description: String((answer.body as { error_description: string }).error_description) })
    })
  }
})
