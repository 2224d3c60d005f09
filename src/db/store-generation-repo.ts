import type { PrismaClient } from '../generated/prisma/client.js'
import type { StoreGenerationRepo } from '../revocation/store-generation-repository.js'

/** How many retired generations are remembered (enough to know any stale replica's marker). */
const RETIRED_KEPT = 64

export function createStoreGenerationRepo(prisma: PrismaClient): StoreGenerationRepo {
  return {
    read: async () => {
      const row = await prisma.storeGeneration.findUnique({ where: { id: 1 } })
      return row ? { current: row.current, retired: row.retired } : null
    },
    replace: async (expected, next, atMs) => {
      const at = new Date(atMs)
      if (expected === null) {
        return (await prisma.$executeRaw`
          INSERT INTO store_generation (id, current, changed_at) VALUES (1, ${next}, ${at}) ON CONFLICT (id) DO NOTHING`) === 1
      }
      // One statement, so two instances replacing the same generation cannot both succeed.
      return (await prisma.$executeRaw`
        UPDATE store_generation
        SET current = ${next}, changed_at = ${at},
            retired = (array_append(retired, current))[greatest(1, cardinality(retired) + 2 - ${RETIRED_KEPT}::int):]
        WHERE id = 1 AND current = ${expected}`) === 1
    },
  }
}
