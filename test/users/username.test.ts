import t from 'tap'
import { normalizeUsername } from '../../src/users/username.js'

t.test('normalizeUsername: RFC 8265 UsernameCaseMapped (width, case, NFC)', async t => {
  for (const [input, normalized] of [
    ['alice', 'alice'],
    ['ALICE', 'alice'],
    ['Zo\u00eb', 'zo\u00eb'],
    ['ZOE\u0308', 'zo\u00eb'],
    ['\u212bngstr\u00f6m', '\u00e5ngstr\u00f6m'],
    ['Stra\u00dfe', 'stra\u00dfe'],
    ['\uff41lice', 'alice'],
    ['\uff21\uff2c\uff29\uff23\uff25', 'alice'],
    ['alice\uff20example.com', 'alice@example.com'],
    ['\uff76\uff9e', '\u30ac'],
    ['alice smith', 'alice smith'],
    ['alice\u3000smith', 'alice smith'],
    ['\u0410\u043b\u0438\u0441\u0430', '\u0430\u043b\u0438\u0441\u0430'],
    ['\u5c71\u7530', '\u5c71\u7530'],
    ['user_01+tag@example.com', 'user_01+tag@example.com'],
  ]) t.equal(normalizeUsername(input!), normalized, JSON.stringify(input))
})

t.test('issue 11: normalizeUsername refuses what RFC 8264 IdentifierClass disallows', async t => {
  for (const [name, input] of [
    ['empty', ''],
    ['a leading space', ' alice'],
    ['two spaces', 'alice  smith'],
    ['a NUL', 'ali\u0000ce'],
    ['a control character', 'ali\u0007ce'],
    ['a zero-width space', 'al\u200bice'],
    ['a zero-width joiner', 'al\u200dice'],
    ['a right-to-left override', '\u202ealice'],
    ['a line separator', 'al\u2028ice'],
    ['a no-break space', 'alice\u00a0smith'],
    ['a lone surrogate', 'ali\ud800ce'],
    ['an emoji', 'alice\u{1F600}'],
    ['a symbol', 'alice\u2122'],
    ['non-ASCII punctuation', 'alice\u2026'],
    ['a compatibility character other than width (ligature)', '\ufb01sh'],
    ['a compatibility character other than width (superscript)', 'alice\u00b2'],
    ['a circled letter', '\u24d0lice'],
    ['an unassigned code point', 'alice\u0378'],
    ['Arabic-Indic digits mixed with extended ones', '\u0661\u06f1'],
  ]) t.equal(normalizeUsername(input!), null, name!)
})
