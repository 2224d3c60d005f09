import { InvalidRequest } from '../errors.js'

/**
 * The parameters a grant declares (node-oidc-provider's `parameters` export), checked in one
 * place, {@link checkParameters}, before its handler runs. Repeated parameters are refused for
 * every grant already, when the body is read (RFC 6749 §3.2, `readParams`).
 */
export interface GrantParameters {
  /** Must be present with a value: RFC 6749 §3.1, a parameter sent without a value counts as omitted. */
  readonly required: readonly string[]
}

/** Throws {@link InvalidRequest} naming the first required parameter that is missing or empty. */
export function checkParameters(params: Readonly<Record<string, string | undefined>>, declared: GrantParameters): void {
  const missing = declared.required.find(name => params[name] === undefined || params[name] === '')
  if (missing !== undefined) throw new InvalidRequest(`${missing} is required`)
}
