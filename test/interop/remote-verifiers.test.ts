import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import * as oidc from 'openid-client'
import t from 'tap'
import { ADMIN } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { startTestServer } from '../helpers/server.js'
import { sleep } from '../helpers/clock.js'

const SECRET = 'service-secret-0123456789-0123456789-abcdef'
const AUDIENCE = 'https://orders.example'

for (const backend of backends()) {
  t.test(backend.name, async t => {
    const { issuer } = await startTestServer(t, backend, { keyLeadTimeSec: 2, jwksMaxAgeSec: 1 })
    const form = (body: Record<string, string>, auth: string) => fetch(`${issuer}/oauth2/token`, {
      method: 'POST', body: new URLSearchParams(body),
      headers: { authorization: 'Basic ' + Buffer.from(auth).toString('base64') },
    })
    const adminToken = async () => ((await (await form({ grant_type: 'client_credentials' }, `${ADMIN.clientId}:${ADMIN.clientSecret}`)).json()) as { access_token: string }).access_token
    const admin = async (method: string, path: string, body?: unknown) => fetch(`${issuer}${path}`, {
      method, headers: { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const created = await admin('POST', '/admin/clients', {
      client_id: 'orders-worker', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'], scopes: ['orders:read'], audience: AUDIENCE,
    })
    t.equal(created.status, 201)
    const getToken = async () => {
      const r = await form({ grant_type: 'client_credentials' }, `orders-worker:${SECRET}`)
      t.equal(r.status, 200)
      return ((await r.json()) as { access_token: string }).access_token
    }
    const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json() as { jwks_uri: string }
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri))
    const verify = (token: string, keySet = jwks) => jwtVerify(token, keySet, { issuer, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['ES256', 'RS256'] })

    t.test('jose.createRemoteJWKSet on our jwks_uri verifies a client_credentials token', async t => {
      const { payload, protectedHeader } = await verify(await getToken())
      t.equal(protectedHeader.typ, 'at+jwt')
      t.equal(payload.iss, issuer)
      t.equal(payload.aud, AUDIENCE)
      t.equal(payload.client_id, 'orders-worker')
    })

    t.test('openid-client discovery + clientCredentialsGrant, unmodified', async t => {
      const config = await oidc.discovery(new URL(issuer), 'orders-worker', SECRET, undefined, { execute: [oidc.allowInsecureRequests] })
      t.equal(config.serverMetadata().issuer, issuer)
      const tokens = await oidc.clientCredentialsGrant(config, { scope: 'orders:read' })
      t.equal(tokens.token_type, 'bearer', 'openid-client normalises the type')
      t.equal(tokens.scope, 'orders:read')
      const { payload } = await verify(tokens.access_token)
      t.equal(payload.scope, 'orders:read')
      const basicConfig = await oidc.discovery(new URL(issuer), 'orders-worker', {}, oidc.ClientSecretBasic(SECRET), { execute: [oidc.allowInsecureRequests] })
      t.ok((await oidc.clientCredentialsGrant(basicConfig)).access_token, 'client_secret_basic too')
    })

    t.test('rotation under traffic: nothing signed before or after fails to verify', async t => {
      const before = await getToken()
      const jwksBefore = await (await fetch(discovery.jwks_uri)).json() as { keys: Array<{ kid: string }> }
      const kidsBefore = new Set(jwksBefore.keys.map(k => k.kid))
      const { keys } = (await (await admin('GET', '/admin/keys')).json()) as { keys: Array<{ kid: string; alg: string; state: string }> }
      const next = keys.find(k => k.alg === 'ES256' && k.state === 'next')!
      await verify(before) // warm the verifier's cache with the pre-rotation key set

      const tooYoungOrReady = await admin('POST', '/admin/keys/rotate', { alg: 'ES256' })
      if (tooYoungOrReady.status === 409) await sleep(2100)
      let stop = false
      const failures: unknown[] = []
      let verified = 0
      const traffic = (async () => {
        while (!stop) {
          try {
            await verify(await getToken())
            verified++
          } catch (err) {
            failures.push(err)
          }
        }
      })()
      await sleep(200)
      const rotated = tooYoungOrReady.status === 200 ? tooYoungOrReady : await admin('POST', '/admin/keys/rotate', { alg: 'ES256' })
      t.equal(rotated.status, 200)
      const result = await rotated.json() as { current: { kid: string }; next: { kid: string }; retiring: { kid: string } }
      t.equal(result.current.kid, next.kid)
      await sleep(300)
      stop = true
      await traffic
      t.same(failures, [], 'no verification failed during the rotation')
      t.ok(verified > 5, `verified ${verified} tokens under rotation`)

      const after = await getToken()
      t.equal(decodeProtectedHeader(after).kid, next.kid, 'the promoted key signs now')
      t.ok(kidsBefore.has(next.kid), 'the new current kid was in the JWKS before it signed anything')
      await verify(after)
      await verify(before)
      await verify(before, createRemoteJWKSet(new URL(discovery.jwks_uri)))

      const again = await admin('POST', '/admin/keys/rotate', { alg: 'ES256' })
      t.equal(again.status, 409, 'the fresh next key is too young')
      t.match(((await again.json()) as { error_description: string }).error_description, /KEY_LEAD_TIME/)

      const revoked = await admin('POST', `/admin/keys/${next.kid}/revoke`)
      t.equal(revoked.status, 200)
      const jwksAfter = await (await fetch(discovery.jwks_uri)).text()
      t.notMatch(jwksAfter, next.kid, 'a revoked kid is gone from the JWKS at once')
      await t.rejects(verify(after, createRemoteJWKSet(new URL(discovery.jwks_uri))), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
    })
  })
}
