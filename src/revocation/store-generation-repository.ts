/** The durable record of the store's generation (one row). */
export interface StoreGenerationRepo {
  /** The current generation and the last ones retired; null before the first start. */
  read(): Promise<{ current: string; retired: string[] } | null>
  /**
   * Atomic compare-and-set: makes `next` current only if `expected` still is (null: none
   * recorded yet), retiring `expected`. Returns whether it did; false means another instance
   * changed it first.
   */
  replace(expected: string | null, next: string, atMs: number): Promise<boolean>
}
