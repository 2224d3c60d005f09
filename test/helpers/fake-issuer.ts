import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTHeaderParameters } from 'jose'
import { accessClaims } from './forge.js'
import { basicAuthorization } from './app.js'

export interface FakeIssuerKey { kid: string; alg: 'ES256' | 'RS256'; privateKey: CryptoKey; publicJwk: JWK }

/**
 * A tiny issuer on 127.0.0.1 speaking discovery, JWKS and RFC 7662 introspection, for the
 * behaviours a healthy Sigil never shows (500s, outages, other Cache-Control, a lying discovery
 * document). Everything it answers is decided by the mutable `state`; it counts what it serves.
 */
export interface FakeIssuer {
  issuer: string
  keys: { ES256: FakeIssuerKey; RS256: FakeIssuerKey }
  state: {
    /** `ok`; `error`: 500s; `down`: the connection is cut without an answer; `hang`: no answer ever. */
    mode: 'ok' | 'error' | 'down' | 'hang'
    /** Which keys the JWKS publishes. */
    published: FakeIssuerKey[]
    cacheControl: string | undefined
    /** The `issuer` the discovery document claims. */
    discoveredIssuer: string
    /** RFC 7662 answer for a token (the sha256 of which is in `revoked` → inactive). */
    revoked: Set<string>
  }
  /** `all` counts every request, answered or not. */
  hits: { all: number; discovery: number; jwks: number; jwks304: number; introspect: number }
  /** Client credentials the introspection endpoint accepts (client_secret_basic). */
  introspectionClient: { clientId: string; clientSecret: string }
  /** A valid access token for this issuer (audience `https://api.example`), signed by `keys[alg]`. */
  sign(opts?: { alg?: 'ES256' | 'RS256'; header?: Partial<JWTHeaderParameters>; claims?: Record<string, unknown> }): Promise<string>
  revoke(token: string): void
}

export async function startFakeIssuer(t: { teardown(fn: () => unknown): void }): Promise<FakeIssuer> {
  const keys = { ES256: await makeKey('ES256', 'es-1'), RS256: await makeKey('RS256', 'rs-1') }
  const introspectionClient = { clientId: 'resource-server', clientSecret: 'introspection secret: with spaces & symbols' }
  const hits = { all: 0, discovery: 0, jwks: 0, jwks304: 0, introspect: 0 }
  const state: FakeIssuer['state'] = { mode: 'ok', published: [keys.ES256, keys.RS256], cacheControl: 'public, max-age=300', discoveredIssuer: '', revoked: new Set() }
  const server = createServer((req, res) => {
    hits.all++
    if (state.mode === 'hang') return
    if (state.mode === 'down') return req.socket.destroy()
    if (state.mode === 'error') return send(res, 500, { error: 'server_error' })
    route(req, res)
  })
  const route = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]
    if (path === '/.well-known/openid-configuration') {
      hits.discovery++
      return send(res, 200, { issuer: state.discoveredIssuer, jwks_uri: `${issuer}/jwks`, introspection_endpoint: `${issuer}/introspect` })
    }
    if (path === '/jwks') return serveJwks(req, res)
    if (path === '/introspect' && req.method === 'POST') return introspect(req, res)
    send(res, 404, { error: 'not_found' })
  }
  const serveJwks = (req: IncomingMessage, res: ServerResponse) => {
    hits.jwks++
    const body = JSON.stringify({ keys: state.published.map(k => k.publicJwk) })
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`
    const headers: Record<string, string> = { etag, 'content-type': 'application/jwk-set+json' }
    if (state.cacheControl !== undefined) headers['cache-control'] = state.cacheControl
    if (req.headers['if-none-match'] === etag) {
      hits.jwks304++
      return res.writeHead(304, headers).end()
    }
    res.writeHead(200, headers).end(body)
  }
  const introspect = async (req: IncomingMessage, res: ServerResponse) => {
    hits.introspect++
    let body = ''
    for await (const chunk of req) body += chunk
    const expected = basicAuthorization(introspectionClient.clientId, introspectionClient.clientSecret)
    if (req.headers.authorization !== expected || req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
      return send(res, 401, { error: 'invalid_client' })
    }
    const token = new URLSearchParams(body).get('token') ?? ''
    send(res, 200, state.revoked.has(sha256(token)) ? { active: false } : { active: true, token_type: 'Bearer' })
  }
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  state.discoveredIssuer = issuer
  t.teardown(() => new Promise(resolve => { server.closeAllConnections(); server.close(resolve) }))
  return {
    issuer, keys, state, hits, introspectionClient,
    sign: async (opts = {}) => {
      const key = keys[opts.alg ?? 'ES256']
      return new SignJWT(accessClaims(issuer, opts.claims))
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...opts.header })
        .sign(key.privateKey)
    },
    revoke: token => { state.revoked.add(sha256(token)) },
  }
}

/** A fresh key pair with its public JWK, for issuers and attackers alike. */
export async function makeKey(alg: 'ES256' | 'RS256', kid: string): Promise<FakeIssuerKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}
