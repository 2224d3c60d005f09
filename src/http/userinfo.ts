import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Services } from '../services.js'
import { verifyLiveAccessToken } from '../revocation/introspection.js'
import { describeUserinfo } from '../users/userinfo.js'
import { bearerToken } from './bearer.js'

/** OpenID Connect Core §5.3: GET and POST /userinfo with a bearer access token holding `openid`. */
export const userinfoRoutes = (s: Services): FastifyPluginAsync => async app => {
  app.addHook('onSend', async (_req, reply) => { reply.header('cache-control', 'no-store') })
  const userinfo = async (req: FastifyRequest) => describeUserinfo(s.users, await verifyLiveAccessToken(s.sessions, bearerToken(req)))
  app.get('/userinfo', userinfo)
  app.post('/userinfo', userinfo)
}
