/**
 * RFC 8265 §3.3.2 (PRECIS UsernameCaseMapped), applied to each space-separated userpart
 * (§3.5): the one form in which usernames are compared, so that "ａlice" (fullwidth), "ALICE"
 * and "alice" are one user. Returns null for a username the profile refuses: empty, a part
 * with a code point outside the IdentifierClass (RFC 8264 §4.2: letters, digits, printable
 * ASCII), or not separated by single spaces. Pure; never throws.
 *
 * Not applied: the Bidi Rule (RFC 5893), whose Bidi_Class data JavaScript does not expose;
 * the contextual rules are approximated (see {@link isIdentifierCodePoint}).
 */
export function normalizeUsername(username: string): string | null {
  // §3.3.2 steps 1, 3 and 4: width mapping, case mapping, NFC.
  const prepared = mapWidth(username).toLowerCase().normalize('NFC')
  const parts = prepared.split(' ')
  if (!parts.every(part => part !== '' && [...part].every(isIdentifierCodePoint))) return null
  // RFC 5892 Appendix A.8/A.9: Arabic-Indic and extended Arabic-Indic digits never mix.
  if (/[\u0660-\u0669]/.test(prepared) && /[\u06f0-\u06f9]/.test(prepared)) return null
  return prepared
}

/**
 * RFC 8265 §3.3.2 step 1: fullwidth and halfwidth code points become their <wide>/<narrow>
 * decompositions (all of them sit in U+3000 and U+FF00-U+FFEF); nothing else is touched, so
 * other compatibility characters stay and are refused, as NFKC would silently merge them.
 */
function mapWidth(s: string): string {
  return s.replace(/[\u3000\uff00-\uffef]/g, c => c.normalize('NFKC'))
}

const ASCII7 = /^[\x21-\x7e]$/
const LETTER_DIGIT = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u
/** RFC 5892 §2.9 Old Hangul Jamo (Hangul_Syllable_Type L, V, T). */
const OLD_HANGUL_JAMO = /^[\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff]$/
const IGNORABLE = /^\p{Default_Ignorable_Code_Point}$/u
/** RFC 5892 §2.6 exceptions: PVALID despite their category, and DISALLOWED despite it. */
const EXCEPTION_VALID = new Set(['\u00df', '\u03c2', '\u06fd', '\u06fe', '\u0f0b', '\u3007'])
const EXCEPTION_DISALLOWED = new Set(['\u0640', '\u07fa', '\u302e', '\u302f', '\u3031', '\u3032', '\u3033', '\u3034', '\u3035', '\u303b'])

/**
 * RFC 8264 §4.2 IdentifierClass, one code point: printable ASCII, or a letter or digit
 * (LetterDigits) that has no compatibility decomposition and is neither ignorable nor Old
 * Hangul Jamo. Spaces, symbols, punctuation, controls and unassigned code points are refused,
 * and so are the CONTEXTJ/CONTEXTO ones (zero-width joiners, middle dots), whose contexts are
 * not checked.
 */
function isIdentifierCodePoint(c: string): boolean {
  if (ASCII7.test(c) || EXCEPTION_VALID.has(c)) return true
  if (EXCEPTION_DISALLOWED.has(c) || !LETTER_DIGIT.test(c)) return false
  return c.normalize('NFKC') === c && !IGNORABLE.test(c) && !OLD_HANGUL_JAMO.test(c)
}
