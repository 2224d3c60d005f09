import type { z } from 'zod'
import { InvalidRequest } from './errors.js'

/**
 * The first problem zod found, as `<path>: <message>` (`whole` stands for the path of the
 * value itself, e.g. `body`). Pure. The one spelling of a validation failure across admin
 * payloads, the Django import and the environment.
 */
export function describeFirstIssue(error: z.ZodError, whole: string): string {
  const issue = error.issues[0]!
  return `${issue.path.map(String).join('.') || whole}: ${issue.message}`
}

/** Validates an admin payload: the parsed value, or {@link InvalidRequest} naming the first bad field. */
export function parsePayload<S extends z.ZodType>(schema: S, payload: unknown): z.output<S> {
  const parsed = schema.safeParse(payload)
  if (!parsed.success) throw new InvalidRequest(describeFirstIssue(parsed.error, 'body'))
  return parsed.data
}
