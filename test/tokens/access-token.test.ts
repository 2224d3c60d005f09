import { createPrivateKey } from 'node:crypto'
import { errors, jwtVerify, type CryptoKey } from 'jose'
import t from 'tap'
import { SIGNING_ALGS } from '../../src/config.js'
import { verifyAccessToken } from '../../src/tokens/access-token.js'
import { signJws } from '../../src/tokens/jws.js'
import { buildTestApp } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

/** jose.jwtVerify with the options verifyAccessToken had when it called jose: the reference. */
async function joseOutcome(token: string, key: { alg: string; publicKey: CryptoKey }, issuer: string, nowMs: number): Promise<string> {
  try {
    await jwtVerify(token, key.publicKey, {
      issuer, typ: 'at+jwt', algorithms: [key.alg], currentDate: new Date(nowMs), requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
    })
    return 'valid'
  } catch (err) {
    return err instanceof errors.JOSEError ? err.code : `thrown ${String(err)}`
  }
}

t.test('issue 12: verifyAccessToken (crypto.verify) accepts and refuses exactly what jose.jwtVerify did, with the same codes', async t => {
  const { services: s, clock } = await buildTestApp(t, backends()[0]!)
  const issuer = s.config.issuer
  const nowSec = Math.floor(clock.now() / 1000)
  const base = { iss: issuer, sub: 'u1', aud: 'https://api.example', iat: nowSec, exp: nowSec + 300, jti: 'j1', client_id: 'app', scope: 'read' }
  for (const alg of SIGNING_ALGS) {
    const signing = s.ring.signingKey(alg)
    if (!signing) continue
    const key = s.ring.verificationKey(signing.kid)!
    const sign = (claims: Record<string, unknown>, typ = 'at+jwt', k = signing) => signJws(k, typ, claims)
    const valid = sign(base)
    const [h, p, sig] = valid.split('.') as [string, string, string]
    const other = { ...signing, privateKey: createPrivateKey(signing.privateKey.export({ format: 'pem', type: 'pkcs8' })) }
    const cases: Record<string, string> = {
      valid,
      'application/at+jwt typ': sign(base, 'application/AT+JWT'),
      'an ID token (typ JWT)': sign(base, 'JWT'),
      'another issuer': sign({ ...base, iss: 'https://evil.example' }),
      'expired a second ago': sign({ ...base, exp: nowSec - 1 }),
      'expiring this very second': sign({ ...base, exp: nowSec }),
      'no jti': sign({ ...base, jti: undefined }),
      'no client_id': sign({ ...base, client_id: undefined }),
      'iat not a number': sign({ ...base, iat: 'now' }),
      'nbf in the future': sign({ ...base, nbf: nowSec + 10 }),
      'nbf now': sign({ ...base, nbf: nowSec }),
      'exp not a number': sign({ ...base, exp: String(nowSec + 300) }),
      'signed by the same key again (valid)': sign(base, 'at+jwt', other),
      'payload swapped': `${h}.${Buffer.from(JSON.stringify({ ...base, sub: 'admin' })).toString('base64url')}.${sig}`,
      'signature flipped': `${h}.${p}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BA' : 'AA'}`,
      'signature cut': `${h}.${p}.${sig.slice(0, 20)}`,
      'junk in the signature': `${h}.${p}.${sig}*`,
      'payload not JSON': sign(base).replace(/\.[^.]+\./, `.${Buffer.from('not json').toString('base64url')}.`),
      'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', kid: signing.kid, typ: 'at+jwt' })).toString('base64url')}.${p}.`,
      'other alg in header': `${Buffer.from(JSON.stringify({ alg: alg === 'ES256' ? 'RS256' : 'ES256', kid: signing.kid, typ: 'at+jwt' })).toString('base64url')}.${p}.${sig}`,
      'four parts': `${valid}.x`,
    }
    for (const [name, token] of Object.entries(cases)) {
      const expected = await joseOutcome(token, key, issuer, clock.now())
      const actual = await verifyAccessToken(s, token).then(() => 'valid', (err: Error) => err.message)
      // Tokens jose refuses as malformed before any key is chosen are refused earlier here (no kid): either way refused.
      if (expected !== 'valid' && actual === 'malformed token') t.pass(`${alg} ${name}: refused (malformed)`)
      else t.equal(actual, expected, `${alg} ${name}`)
    }
    t.equal((await verifyAccessToken(s, valid)).jti, 'j1', `${alg}: the claims come back`)
  }
})
