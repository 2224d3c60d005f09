// A resource server that accepts Sigil access tokens with Express and plain jose
// (createRemoteJWKSet + jwtVerify), no Sigil package needed.
//
//   SIGIL_ISSUER=https://auth.example.com SIGIL_AUDIENCE=https://orders.example node server.js
import express from 'express'
import { createRemoteJWKSet, errors, jwtVerify } from 'jose'

const issuer = process.env.SIGIL_ISSUER ?? 'http://localhost:3000'
const audience = process.env.SIGIL_AUDIENCE ?? 'https://orders.example'
const realm = 'orders'

// Find the JWKS through discovery, and refuse a document that names another issuer (mix-up).
const metadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()
if (metadata.issuer !== issuer) throw new Error(`discovery names issuer ${metadata.issuer}, expected ${issuer}`)
// jose caches the set, refetches on an unknown kid at most once per cooldownDuration, and picks
// the key by kid and by the token's alg (an EC kid under RS256 finds no key).
const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri), { cooldownDuration: 30_000, cacheMaxAge: 300_000 })

const verifyOptions = {
  issuer,
  audience,
  algorithms: ['ES256', 'RS256'], // never HS*: a public key is not a shared secret
  typ: 'at+jwt', // RFC 9068: an ID token (typ JWT) is not an access token
  clockTolerance: 30,
  requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
}

/** RFC 6750 §3 challenge; `error` is left out when the request carried no token at all. */
function challenge(res, status, error, description, scope) {
  const attrs = [`realm="${realm}"`]
  if (error) attrs.push(`error="${error}"`, `error_description="${description}"`)
  if (scope) attrs.push(`scope="${scope}"`)
  res.set('WWW-Authenticate', `Bearer ${attrs.join(', ')}`)
  res.status(status).json({ error: error ?? 'unauthorized', error_description: description })
}

/** Middleware: a valid Sigil access token holding every one of `scopes`; claims on req.auth. */
function authenticate(...scopes) {
  return async (req, res, next) => {
    const header = req.get('authorization') ?? ''
    if (!/^bearer(\s|$)/i.test(header)) return challenge(res, 401, undefined, 'a bearer access token is required')
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
    if (!match) return challenge(res, 400, 'invalid_request', 'the Authorization header is malformed')
    let payload
    try {
      ({ payload } = await jwtVerify(match[1], jwks, verifyOptions))
    } catch (err) {
      if (err instanceof errors.JWKSTimeout) return res.status(503).json({ error: 'temporarily_unavailable', error_description: 'the token issuer cannot be reached' })
      if (err instanceof errors.JOSEError) return challenge(res, 401, 'invalid_token', 'the access token is invalid or expired')
      return next(err)
    }
    const granted = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ') : [])
    if (!scopes.every(s => granted.has(s))) return challenge(res, 403, 'insufficient_scope', 'the access token lacks a required scope', scopes.join(' '))
    req.auth = payload
    next()
  }
}

const app = express()
app.get('/healthz', (_req, res) => res.json({ ok: true }))
app.get('/api/whoami', authenticate(), (req, res) => res.json({ sub: req.auth.sub, client_id: req.auth.client_id, scope: req.auth.scope ?? '' }))
app.get('/api/orders', authenticate('orders:read'), (req, res) => res.json({ orders: [], user: req.auth.sub }))
app.post('/api/orders', authenticate('orders:write'), (_req, res) => res.status(201).json({ created: true }))

const port = Number(process.env.PORT ?? 8080)
app.listen(port, process.env.HOST ?? '127.0.0.1', () => console.log(`listening on ${port}`))
