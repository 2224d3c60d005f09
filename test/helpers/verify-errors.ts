import { VerifyError } from '../../src/verify/index.js'

/** The typed error's code, or a marker that fails the assertion when anything else happened. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ACCEPTED'
  } catch (err) {
    return err instanceof VerifyError ? err.code : `UNTYPED ${String(err)}`
  }
}
