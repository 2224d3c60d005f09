/**
 * The reference: bare Fastify routes doing only the work each path cannot avoid — parse the
 * form, check the client secret in constant time, one Redis script where the path needs
 * state, argon2id verify for a login, sign with `crypto.sign` on a KeyObject. No logger, no
 * plugins. Started by bench/run.ts (PORT, REDIS_URL); not a server to deploy.
 */
import { createHash, createHmac, generateKeyPairSync, randomBytes, randomUUID, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto'
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2'
import Fastify, { type FastifyReply } from 'fastify'
import { Redis } from 'ioredis'
import { PASSWORD_HASH_PARAMS } from '../../src/users/password.js'
import { AUDIENCE, CC_CLIENTS, LOGIN_CLIENT, REFRESH_CLIENT, SCOPE, USERS } from '../lib/fixtures.js'

type Alg = 'ES256' | 'RS256'
const ISSUER = 'http://bare.bench.example'
const TTL_SEC = 900
const IDLE_TTL_MS = 1_209_600_000
const PREFIX = 'bench:bare:'

const keys = {
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
}
const headers = {
  ES256: Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'bare-es256', typ: 'at+jwt' })).toString('base64url'),
  RS256: Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'bare-rs256', typ: 'at+jwt' })).toString('base64url'),
}

function signJwt(alg: Alg, claims: Record<string, unknown>): string {
  const input = `${headers[alg]}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  const key: KeyObject = keys[alg].privateKey
  const sig = alg === 'ES256' ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), key)
  return `${input}.${sig.toString('base64url')}`
}

function accessToken(alg: Alg, sub: string, clientId: string, sid?: string): { access_token: string; token_type: 'Bearer'; expires_in: number; scope: string } {
  const iat = Math.floor(Date.now() / 1000)
  const claims = { iss: ISSUER, sub, aud: AUDIENCE, exp: iat + TTL_SEC, iat, jti: randomUUID(), client_id: clientId, scope: SCOPE, ...(sid ? { sid } : {}) }
  return { access_token: signJwt(alg, claims), token_type: 'Bearer', expires_in: TTL_SEC, scope: SCOPE }
}

// Client secrets as Sigil keeps them: a keyed hash, compared in constant time.
const hmacKey = randomBytes(32)
const secretHash = (s: string) => createHmac('sha256', hmacKey).update(s).digest()
const confidential = new Map<string, { alg: Alg; hash: Buffer }>(Object.entries(CC_CLIENTS).map(([alg, c]) => [c.id, { alg: alg as Alg, hash: secretHash(c.secret) }]))

function authenticate(authorization: string | undefined): { id: string; alg: Alg } | undefined {
  if (!authorization?.startsWith('Basic ')) return undefined
  const decoded = Buffer.from(authorization.slice(6), 'base64').toString()
  const colon = decoded.indexOf(':')
  const id = decoded.slice(0, colon)
  const client = confidential.get(id)
  const actual = secretHash(decoded.slice(colon + 1))
  if (!client || colon < 0) return undefined
  return timingSafeEqual(actual, client.hash) ? { id, alg: client.alg } : undefined
}

// The bench users share one password, so one hash serves them all (a verify costs the same).
const passwordHash = await argon2Hash(USERS[0]!.password, PASSWORD_HASH_PARAMS)
const users = new Map(USERS.map(u => [u.username, { id: randomUUID(), hash: passwordHash }]))

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
/** KEYS: family, used hashes. ARGV: presented hash, next hash, client, idle ttl ms. The rotation and reuse detection. */
redis.defineCommand('bareRotate', {
  numberOfKeys: 2,
  lua: `
local f = redis.call('HMGET', KEYS[1], 'head', 'user', 'client', 'revoked')
if not f[1] or f[4] == '1' or f[3] ~= ARGV[3] then return false end
if f[1] ~= ARGV[1] then
  if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], 'revoked', '1') end
  return false
end
redis.call('HSET', KEYS[1], 'head', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return f[2]`,
})
const rotate = (redis as unknown as { bareRotate(...a: Array<string | number>): Promise<string | null> }).bareRotate.bind(redis)
const tokenHash = (t: string) => createHash('sha256').update(t).digest('base64url')
const famKey = (id: string) => `${PREFIX}fam:{${id}}`

const app = Fastify({ logger: false })
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
  done(null, Object.fromEntries(new URLSearchParams(body as string)))
})

const fail = (reply: FastifyReply, status: number, error: string) => reply.status(status).send({ error, error_description: error })

app.get('/', async () => ({ hello: 'world' }))

app.post<{ Body: Record<string, string> }>('/oauth2/token', async (req, reply) => {
  const p = req.body
  reply.header('cache-control', 'no-store')
  switch (p.grant_type) {
    case 'client_credentials': {
      const client = authenticate(req.headers.authorization)
      if (!client) return fail(reply, 401, 'invalid_client')
      return accessToken(client.alg, client.id, client.id)
    }
    case 'password': {
      if (p.client_id !== LOGIN_CLIENT) return fail(reply, 401, 'invalid_client')
      const user = users.get(p.username ?? '')
      if (!user || !await argon2Verify(user.hash, p.password ?? '')) return fail(reply, 400, 'invalid_grant')
      return accessToken('ES256', user.id, LOGIN_CLIENT)
    }
    case 'refresh_token': {
      const [familyId] = (p.refresh_token ?? '').split('.')
      if (p.client_id !== REFRESH_CLIENT || !familyId) return fail(reply, 400, 'invalid_grant')
      const next = `${familyId}.${randomBytes(32).toString('base64url')}`
      const user = await rotate(famKey(familyId), `${famKey(familyId)}:used`, tokenHash(p.refresh_token!), tokenHash(next), REFRESH_CLIENT, IDLE_TTL_MS)
      if (!user) return fail(reply, 400, 'invalid_grant')
      return { ...accessToken('ES256', user, REFRESH_CLIENT, familyId), refresh_token: next }
    }
    default:
      return fail(reply, 400, 'unsupported_grant_type')
  }
})

app.post<{ Body: Record<string, string> }>('/oauth2/introspect', async (req, reply) => {
  reply.header('cache-control', 'no-store')
  if (!authenticate(req.headers.authorization)) return fail(reply, 401, 'invalid_client')
  const [h, p, s] = (req.body.token ?? '').split('.')
  if (!h || !p || !s) return { active: false }
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: keys.ES256.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))
  if (!ok) return { active: false }
  const c = JSON.parse(Buffer.from(p, 'base64url').toString()) as { exp: number; iss: string; jti: string; sub: string; sid?: string }
  if (c.iss !== ISSUER || c.exp * 1000 <= Date.now()) return { active: false }
  // The revocation lists, one round trip: denied jti, revoked family, user logged out everywhere.
  const [denied, family, user] = await redis.mget(`${PREFIX}denied:${c.jti}`, `${PREFIX}fam-revoked:${c.sid ?? ''}`, `${PREFIX}user-revoked:${c.sub}`)
  if (denied || family || user) return { active: false }
  return { active: true, token_type: 'Bearer', ...c }
})

/** Setup only (not measured): `n` fresh refresh-token families of the bench user. */
app.post<{ Querystring: { n?: string } }>('/setup/families', async req => {
  const tokens = Array.from({ length: Number(req.query.n ?? 1) }, () => `${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`)
  const batch = redis.multi()
  for (const t of tokens) {
    const key = famKey(t.split('.')[0]!)
    batch.hset(key, 'head', tokenHash(t), 'user', users.get(USERS[0]!.username)!.id, 'client', REFRESH_CLIENT).pexpire(key, IDLE_TTL_MS)
  }
  await batch.exec()
  return tokens
})

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
