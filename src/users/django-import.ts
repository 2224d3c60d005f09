import { z } from 'zod'
import type { DjangoUserRecord, UserRepo } from './user-repository.js'
import { InvalidRequest } from '../errors.js'
import type { Logger } from '../log.js'
import { describeFirstIssue } from '../payload.js'
import { djangoHasherOf, isUnusableDjangoHash } from './django-hash.js'
import { normalizeUsername } from './username.js'

/** What an import did, entry by entry: the four counts add up to the entries given. */
export interface ImportReport {
  created: number
  updated: number
  unchanged: number
  skipped: number
  /** Why each skipped entry was skipped (its index in the input and, when readable, its pk). */
  skipped_entries: Array<{ index: number; pk?: unknown; reason: string }>
}

/** One entry of `manage.py dumpdata auth.user` (other fields such as last_login and groups are ignored). */
const djangoUser = z.object({
  model: z.literal('auth.user', 'is not auth.user'),
  pk: z.number().int().min(1).max(2 ** 31 - 1),
  fields: z.object({
    password: z.string().max(1024),
    username: z.string().min(1).max(150),
    email: z.string().max(254).default(''),
    is_active: z.boolean().default(true),
    is_staff: z.boolean().default(false),
    is_superuser: z.boolean().default(false),
    first_name: z.string().max(150).default(''),
    last_name: z.string().max(150).default(''),
  }),
})

/** The outcome of one entry: a record to store, or why not. Pure. */
function readDjangoUser(entry: unknown): DjangoUserRecord | { reason: string } {
  const parsed = djangoUser.safeParse(entry)
  if (!parsed.success) return { reason: describeFirstIssue(parsed.error, 'entry') }
  const { pk, fields: f } = parsed.data
  const username = f.username.normalize('NFC')
  const usernameNormalized = normalizeUsername(username)
  if (usernameNormalized === null) return { reason: 'fields.username: not a username Sigil accepts (RFC 8265 UsernameCaseMapped)' }
  // Django's '' and '!…' are both unusable: kept as '!', which never verifies.
  const unusable = f.password === '' || isUnusableDjangoHash(f.password)
  if (!unusable && djangoHasherOf(f.password) === null) {
    return { reason: `fields.password: hasher ${f.password.split('$')[0] || '(none)'} is not supported or the hash is malformed` }
  }
  return {
    djangoId: pk, username, usernameNormalized, email: f.email === '' ? null : f.email,
    importedPasswordHash: unusable ? '!' : f.password, disabled: !f.is_active,
    isStaff: f.is_staff, isSuperuser: f.is_superuser, firstName: f.first_name, lastName: f.last_name,
  }
}

/**
 * Issue 13: imports the JSON of `manage.py dumpdata auth.user` (an array), keeping each
 * user's Django pk, username, email, is_active, is_staff, is_superuser, names and password
 * hash as is. Idempotent: users are matched by pk, and a second run of the same dump reports
 * every entry unchanged; a password is replaced only when Django's hash changed since the last
 * import (so a rehash to argon2id at login survives re-imports). Each entry is stored whole or
 * not at all; a malformed one, or one whose username another user holds, is skipped with a
 * reason. Throws {@link InvalidRequest} when the payload is not an array. Logs pks and counts only.
 */
export async function importDjangoUsers(deps: { repo: UserRepo }, payload: unknown, log: Logger): Promise<ImportReport> {
  if (!Array.isArray(payload)) throw new InvalidRequest('body: must be the JSON array of manage.py dumpdata auth.user')
  const report: ImportReport = { created: 0, updated: 0, unchanged: 0, skipped: 0, skipped_entries: [] }
  for (const [index, entry] of payload.entries()) {
    const record = readDjangoUser(entry)
    const outcome = 'reason' in record ? record : await deps.repo.importDjangoUser(record)
    if (typeof outcome === 'string') {
      report[outcome]++
      continue
    }
    report.skipped++
    const pk = (entry as { pk?: unknown } | null)?.pk
    report.skipped_entries.push({ index, ...(pk === undefined ? {} : { pk }), reason: outcome.reason })
  }
  log.info({ event: 'django_users_imported', created: report.created, updated: report.updated, unchanged: report.unchanged,
    skipped: report.skipped }, 'Django users imported')
  return report
}
