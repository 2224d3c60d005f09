import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { adminToken, buildTestApp, registerLoginClients, WEB_SECRET } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

/** RATE_LIMIT_IP_FAILURES for this file: each case is sent this often, then once more for the 429. */
const LIMIT = 2

const basicOf = (bytes: Buffer | string) => ({ authorization: 'Basic ' + Buffer.from(bytes).toString('base64') })
const form = { 'content-type': 'application/x-www-form-urlencoded' }
const json = { 'content-type': 'application/json' }

/** Malformed client credentials: none may reach the database, each is a counted 400 or 401. */
const CREDENTIAL_CASES: Array<{ name: string; headers: Record<string, string>; body?: string }> = [
  { name: 'Basic, percent-encoded NUL in client_id', headers: { ...form, ...basicOf('we%00b:secret') } },
  { name: 'Basic, raw NUL in client_id', headers: { ...form, ...basicOf('we\u0000b:secret') } },
  { name: 'Basic, percent-encoded NUL in the secret', headers: { ...form, ...basicOf(`web:${WEB_SECRET}%00`) } },
  { name: 'Basic, raw NUL in the secret', headers: { ...form, ...basicOf(`web:${WEB_SECRET}\u0000`) } },
  { name: 'Basic, control character in client_id', headers: { ...form, ...basicOf('we%01b:secret') } },
  { name: 'Basic, raw invalid UTF-8', headers: { ...form, ...basicOf(Buffer.from([0x77, 0xff, 0xfe, 0x3a, 0x78])) } },
  { name: 'Basic, percent-encoded invalid UTF-8', headers: { ...form, ...basicOf('%C3%28:x') } },
  { name: 'Basic, client_id outside the client_id alphabet', headers: { ...form, ...basicOf('w%C3%A9b:secret') } },
  { name: 'Basic, client_id of 300 characters', headers: { ...form, ...basicOf(`${'w'.repeat(300)}:secret`) } },
  { name: 'post, NUL in client_id', headers: form, body: 'client_id=we%00b&client_secret=x' },
  { name: 'post, NUL in client_secret', headers: form, body: 'client_id=web&client_secret=x%00' },
  { name: 'post, control character in client_id', headers: form, body: 'client_id=we%1Bb' },
  { name: 'post, right-to-left override in client_id', headers: form, body: 'client_id=%E2%80%AEweb' },
  { name: 'JSON, NUL in client_id', headers: json, body: '{"client_id":"we\\u0000b","client_secret":"x"}' },
]

const ENDPOINTS: Array<{ url: string; params: Record<string, string> }> = [
  { url: '/oauth2/token', params: { grant_type: 'client_credentials' } },
  { url: '/oauth2/revoke', params: { token: 'x' } },
  { url: '/oauth2/introspect', params: { token: 'x' } },
]

/** The case's body with the endpoint's own parameters added, in the case's encoding. */
function bodyFor(c: (typeof CREDENTIAL_CASES)[number], params: Record<string, string>): string {
  if (c.headers['content-type'] === 'application/json') {
    return JSON.stringify(params).slice(0, -1) + ',' + (c.body ?? '{}').slice(1)
  }
  return [new URLSearchParams(params).toString(), c.body].filter(Boolean).join('&')
}

/** Sends one request `LIMIT` times and checks each answer, then once more: 429 proves each was counted. */
async function assertCountedRefusal(
  t: Test, app: FastifyInstance, request: { url: string; headers: Record<string, string>; payload: string }, remoteAddress: string,
  allowed: Array<[number, string]>,
) {
  for (let i = 0; i < LIMIT; i++) {
    const r = await app.inject({ method: 'POST', remoteAddress, ...request })
    const answer: [number, string] = [r.statusCode, r.json().error]
    t.ok(allowed.some(([status, error]) => status === answer[0] && error === answer[1]), `answered ${answer.join(' ')}`)
  }
  const last = await app.inject({ method: 'POST', remoteAddress, ...request })
  t.equal(last.statusCode, 429, 'counted toward RATE_LIMIT_IP_FAILURES')
}

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { app } = await buildTestApp(t, backend, { config: { rateLimitIpFailures: LIMIT } })
    await registerLoginClients(app)
    let host = 0
    const nextIp = () => `198.51.100.${++host}`

    t.test('issue 11: malformed client credentials are a counted 400 invalid_request or 401 invalid_client, never a 500', async t => {
      for (const endpoint of ENDPOINTS) {
        for (const c of CREDENTIAL_CASES) {
          t.test(`${endpoint.url}: ${c.name}`, async t => {
            const request = { url: endpoint.url, headers: c.headers, payload: bodyFor(c, endpoint.params) }
            await assertCountedRefusal(t, app, request, nextIp(), [[400, 'invalid_request'], [401, 'invalid_client']])
          })
        }
      }
    })

    t.test('issue 11: malformed usernames in the password grant are counted refusals, never looked up', async t => {
      for (const [name, username] of [['NUL', 'ali%00ce'], ['a control character', 'ali%07ce'], ['invalid UTF-8', 'ali%C3%28ce']] as const) {
        t.test(name, async t => {
          const request = { url: '/oauth2/token', headers: form, payload: `grant_type=password&client_id=spa&password=whatever12&username=${username}` }
          // Undecodable form encoding is a syntax error of the body, refused before anything is read.
          if (name === 'invalid UTF-8') {
            const r = await app.inject({ method: 'POST', remoteAddress: nextIp(), ...request })
            t.same([r.statusCode, r.json().error], [400, 'invalid_request'])
            return
          }
          await assertCountedRefusal(t, app, request, nextIp(), [[400, 'invalid_request'], [400, 'invalid_grant']])
        })
      }
    })

    t.test('issue 11: ids in admin paths that cannot exist are 404 (or 400), never looked up, never a 500', async t => {
      const token = await adminToken(app)
      const ids = ['%00', 'x%01y', '%C3%28', '%E2%80%AEadmin', 'not-a-uuid', 'x'.repeat(300), '%F0%9F%98%80']
      for (const [method, path] of [
        ['GET', '/admin/clients/:id'], ['DELETE', '/admin/clients/:id'], ['DELETE', '/admin/users/:id'],
        ['POST', '/admin/users/:id/revoke-tokens'], ['POST', '/admin/keys/:id/revoke'],
      ] as const) {
        for (const id of ids) {
          const r = await app.inject({ method, url: path.replace(':id', id), headers: { authorization: `Bearer ${token}` }, remoteAddress: nextIp() })
          t.ok([[404, 'not_found'], [400, 'invalid_request']].some(([s, e]) => s === r.statusCode && e === r.json().error),
            `${method} ${path} with ${id.slice(0, 20)}: ${r.statusCode} ${r.json().error}`)
        }
      }
    })
  })
}
