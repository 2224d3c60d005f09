/** True for Prisma's P2002: a unique constraint or index refused the write. */
export const isUniqueViolation = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002'

/** Runs the insert: true once written, false when a unique constraint refused it (taken); other errors are thrown. */
export async function insertUnlessTaken(insert: () => Promise<unknown>): Promise<boolean> {
  try {
    await insert()
    return true
  } catch (err) {
    if (isUniqueViolation(err)) return false
    throw err
  }
}
