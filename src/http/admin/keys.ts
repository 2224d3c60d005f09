import type { FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import { SIGNING_ALGS } from '../../config.js'
import { describeKey, listKeys } from '../../keys/key-inventory.js'
import { revokeKey, rotateKeys } from '../../keys/key-rotation.js'
import { parsePayload } from '../../payload.js'
import type { Services } from '../../services.js'

const rotateInput = z.object({ alg: z.enum(SIGNING_ALGS).optional(), force: z.boolean().optional() }).strict()

export const adminKeyRoutes = (s: Services): FastifyPluginAsync => async app => {
  app.get('/admin/keys', async () => ({ keys: await listKeys(s.keys) }))

  app.post('/admin/keys/rotate', async req => {
    const input = parsePayload(rotateInput, req.body ?? {})
    const result = await rotateKeys(s.keys, input.alg ?? s.config.signingAlg, { force: input.force === true })
    await s.ring.reload()
    return { current: describeKey(result.current), next: describeKey(result.next), retiring: describeKey(result.retiring) }
  })

  app.post<{ Params: { kid: string } }>('/admin/keys/:kid/revoke', async req => {
    const key = await revokeKey(s.keys, req.params.kid)
    await s.ring.reload()
    return describeKey(key)
  })
}
