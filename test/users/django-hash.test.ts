import t from 'tap'
import { djangoHasherOf, verifyDjangoHash } from '../../src/users/django-hash.js'
import { createPasswordHasher } from '../../src/users/password.js'

// Made by Django 3.2's make_password (Debian's python3-django, argon2-cffi 21.1, bcrypt 3.2).
const PLAIN = 'Crème brûlée 1'
const LONG = 'x'.repeat(72) + 'tail-one'
const SAME_72 = 'x'.repeat(72) + 'other'
const HASHES = {
  pbkdf2_sha256: {
    plain: 'pbkdf2_sha256$260000$sfFnuVSd0GvOwqx9q6lTyh$S39nwWzcPSfKkN9c2LmeL/eCIUZ8CmhhbJAP80BEl3w=',
    long: 'pbkdf2_sha256$260000$Q1gTX3Vl3IRUk0mZAuicYR$TssydjiwkVsi09k64GQkJg9CDwCkvuXZrv7LkjIRh14=',
  },
  pbkdf2_sha1: {
    plain: 'pbkdf2_sha1$260000$vMN84MsmmbE5YgIUGnaYVt$F7iLp9fUeX4vHfMnetQV1jF6ofw=',
    long: 'pbkdf2_sha1$260000$qCQALj00EhQX5c3mdzXdzh$AmWnW6ugCVCGHOAmUJZKYlfUnAg=',
  },
  argon2: {
    plain: 'argon2$argon2id$v=19$m=102400,t=2,p=8$QWc4cmFKcUJGVTV2eHROelo1d1ZEUw$yQqNyUQdPzINSUWp/gX7XQ',
    long: 'argon2$argon2id$v=19$m=102400,t=2,p=8$MkJsOVZsM2RGYzBuMmVuTDU2NkpZTg$yPiDlqppa68xrLFRfF9WkQ',
  },
  bcrypt_sha256: {
    plain: 'bcrypt_sha256$$2b$12$dXbeAg36KN5.9zAEOEsQbu8S5euZb0uvikyx0m2gPXiJUEVk9Tdom',
    long: 'bcrypt_sha256$$2b$12$4B41jy18erwo20dDzxa0rejr4NKslv.uwDbxiMXIkwLuYkCtArPv2',
  },
  bcrypt: {
    plain: 'bcrypt$$2b$12$VWoKhwpZY50.SttA4.GtTe1FBhFeIYytd8dMbLBisU/7I4fyE59Sq',
    long: 'bcrypt$$2b$12$GCL33a/NIgs5T0.W0ff7Iu1Ctn97o7tTszwW8n17GfEgSiKFHCOgi',
  },
} as const

for (const [hasher, h] of Object.entries(HASHES)) {
  t.test(`issue 13: ${hasher} hashes made by Django verify as Django verifies them`, async t => {
    t.equal(djangoHasherOf(h.plain), hasher)
    t.equal(await verifyDjangoHash(h.plain, PLAIN), true, 'the password')
    t.equal(await verifyDjangoHash(h.plain, 'Crème brûlée 2'), false, 'another password')
    t.equal(await verifyDjangoHash(h.plain, PLAIN.normalize('NFD')), false, 'Django compares the bytes as typed: no normalization')
    t.equal(await verifyDjangoHash(h.long, LONG), true, 'a password over 72 bytes')
    // Django's BCryptPasswordHasher sees only the first 72 bytes; bcrypt_sha256 hashes the whole password first.
    t.equal(await verifyDjangoHash(h.long, SAME_72), hasher === 'bcrypt', 'the 72-byte rule applies to bcrypt alone')
    const tampered = h.plain.slice(0, -3) + (h.plain.endsWith('abc') ? 'xyz' : 'abc')
    t.equal(await verifyDjangoHash(tampered, PLAIN), false, 'a tampered hash')
  })
}

t.test('issue 13: unusable, unsupported and malformed hashes never verify and are not Django hashes Sigil keeps', async t => {
  for (const encoded of [
    '!', '!uE6CkzXfvqyPpQjwYqDyGJRUAnNFAxHm3dGp3fR6', '', 'md5$bKftLvXVcCr0T1IQbTnBWF$710c90b91cd753c5f94c06aa8df55d5e',
    'pbkdf2_sha256$0$salt$S39nwWzcPSfKkN9c2LmeL/eCIUZ8CmhhbJAP80BEl3w=', 'pbkdf2_sha256$99999999$salt$S39nwWzcPSfKkN9c2LmeL/eCIUZ8CmhhbJAP80BEl3w=',
    'bcrypt$$2b$12$short', 'argon2$argon2id$nonsense', 'sha1$$deadbeef',
  ]) {
    t.equal(djangoHasherOf(encoded), null, encoded)
    t.equal(await verifyDjangoHash(encoded, PLAIN), false, encoded)
  }
})

t.test('issue 13: the password hasher verifies Django hashes, asks for a rehash of every one, and refuses unusable ones', async t => {
  const hasher = await createPasswordHasher()
  for (const h of Object.values(HASHES)) {
    t.equal(await hasher.verify(h.plain, PLAIN), true)
    t.equal(hasher.needsRehash(h.plain), true, 'rehashed to argon2id at the first login')
  }
  t.equal(await hasher.verify('!', PLAIN), false)
  t.equal(await hasher.verify('!', ''), false)
  const own = await hasher.hash(PLAIN)
  t.equal(await hasher.verify(own, PLAIN), true, "Sigil's own hashes still verify")
  t.equal(hasher.needsRehash(own), false)
})
