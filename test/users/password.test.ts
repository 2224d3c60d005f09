import { hash, parseOptions } from '@node-rs/argon2'
import t from 'tap'
import { createPasswordHasher, PASSWORD_HASH_PARAMS } from '../../src/users/password.js'

t.test('argon2id at m=19456 KiB, t=2, p=1, as a PHC string', async t => {
  const hasher = await createPasswordHasher()
  const stored = await hasher.hash('correct horse battery staple')
  t.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
  t.not(await hasher.hash('correct horse battery staple'), stored, 'salted')
  t.equal(await hasher.verify(stored, 'correct horse battery staple'), true)
  t.equal(await hasher.verify(stored, 'Correct horse battery staple'), false)
  t.equal(hasher.needsRehash(stored), false)
})

t.test('with no stored hash, verify works as long and is false', async t => {
  const hasher = await createPasswordHasher()
  t.equal(await hasher.verify(null, 'anything at all'), false)
  t.equal(await hasher.verify(null, ''), false)
})

t.test('a corrupt stored hash is false, not an error, and wants a rehash', async t => {
  const hasher = await createPasswordHasher()
  t.equal(await hasher.verify('$argon2id$garbage', 'x'), false)
  t.equal(hasher.needsRehash('not a hash'), true)
})

t.test('needsRehash is true only for weaker parameters', async t => {
  const hasher = await createPasswordHasher()
  for (const [name, options, weaker] of [
    ['less memory', { memoryCost: 8192 }, true],
    ['fewer passes', { timeCost: 1 }, true],
    ['argon2i', { algorithm: 1 }, true],
    ['argon2d', { algorithm: 0 }, true],
    ['more memory', { memoryCost: 32768 }, false],
    ['more passes', { timeCost: 3 }, false],
  ] as const) {
    const stored = await hash('pw', { ...PASSWORD_HASH_PARAMS, ...options })
    t.equal(hasher.needsRehash(stored), weaker, name)
    t.equal(await hasher.verify(stored, 'pw'), true, `${name}: still verifies with its own parameters`)
  }
  t.match(parseOptions(await hasher.hash('pw')), { memoryCost: 19456, timeCost: 2, parallelism: 1 })
})
