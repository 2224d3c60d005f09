import t from 'tap'
import { isOversizedPassword, userInput } from '../../src/users/user.js'

t.test('isOversizedPassword counts code points, not UTF-16 units', async t => {
  t.equal(isOversizedPassword('p'.repeat(256)), false)
  t.equal(isOversizedPassword('p'.repeat(257)), true)
  t.equal(isOversizedPassword('\u{1F511}'.repeat(256)), false, '256 emoji are 512 UTF-16 units')
  t.equal(isOversizedPassword('\u{1F511}'.repeat(257)), true)
  t.equal(isOversizedPassword('p'.repeat(1_000_000)), true)
})

t.test('userInput', async t => {
  const ok = { username: 'alice', password: 'long enough' }
  t.same(userInput.parse({ ...ok, username: 'Zoe\u0308' }).username, 'Zo\u00eb', 'the username is kept, in NFC')
  t.same(userInput.parse({ ...ok, claims: { tenant: 'acme', nested: { a: [1] } } }).claims, { tenant: 'acme', nested: { a: [1] } })
  for (const [name, payload, path] of [
    ['a reserved claim', { ...ok, claims: { auth_time: 1 } }, 'claims'],
    ['claims as an array', { ...ok, claims: [] }, 'claims'],
    ['claims of 4 KB and more', { ...ok, claims: { x: 'y'.repeat(4090) } }, 'claims'],
    ['a format character in the username', { ...ok, username: 'al\u200bice' }, 'username'],
    ['a line separator in the username', { ...ok, username: 'al\u2028ice' }, 'username'],
    ['issue 11: a symbol outside RFC 8265 IdentifierClass in the username', { ...ok, username: 'alice\u2122' }, 'username'],
    ['issue 11: two spaces in the username', { ...ok, username: 'alice  smith' }, 'username'],
    ['a short password', { ...ok, password: 'short' }, 'password'],
    ['a non-string email', { ...ok, email: 5 }, 'email'],
  ] as const) {
    const r = userInput.safeParse(payload)
    t.notOk(r.success, name)
    t.equal(r.error?.issues[0]?.path[0], path, `${name} is blamed on ${path}`)
  }
})
