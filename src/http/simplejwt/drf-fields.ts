import { DrfError } from './drf-errors.js'

export interface FieldSpec {
  /** DRF's CharField trims surrounding whitespace unless told not to (its PasswordField does not). */
  trim: boolean
}

/**
 * Reads required string fields as a DRF serializer does, collecting every field's error before
 * refusing: missing is "This field is required.", null "This field may not be null.", empty
 * (after trimming) "This field may not be blank.", an object or list "Not a valid string.";
 * numbers and booleans become their text. A body that is not an object is DRF's "Invalid data".
 * Throws a 400 {@link DrfError} with `{field: [message]}`.
 */
export function readFields<K extends string>(body: unknown, fields: Record<K, FieldSpec>): Record<K, string> {
  const input: unknown = body ?? {}
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    const got = Array.isArray(input) ? 'list' : typeof input === 'string' ? 'str' : typeof input
    throw new DrfError(400, { non_field_errors: [`Invalid data. Expected a dictionary, but got ${got}.`] })
  }
  const values = {} as Record<K, string>
  const errors: Record<string, string[]> = {}
  for (const [name, spec] of Object.entries(fields) as Array<[K, FieldSpec]>) {
    const raw: unknown = Object.hasOwn(input, name) ? (input as Record<string, unknown>)[name] : undefined
    const problem = fieldProblem(raw)
    if (problem !== undefined) { errors[name] = [problem]; continue }
    const text = spec.trim ? String(raw).trim() : String(raw)
    if (text === '') errors[name] = ['This field may not be blank.']
    else values[name] = text
  }
  if (Object.keys(errors).length > 0) throw new DrfError(400, errors)
  return values
}

function fieldProblem(raw: unknown): string | undefined {
  if (raw === undefined) return 'This field is required.'
  if (raw === null) return 'This field may not be null.'
  if (typeof raw === 'object') return 'Not a valid string.'
  return undefined
}
