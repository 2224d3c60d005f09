import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Services } from '../services.js'
import { verifyLiveAccessToken } from '../revocation/live-access-token.js'
import { describeUserinfo } from '../users/userinfo.js'
import { bearerToken } from './bearer.js'
import { noStore } from './no-store.js'

/** OpenID Connect Core §5.3: GET and POST /userinfo with a bearer access token holding `openid`. */
export const userinfoRoutes = (s: Services): FastifyPluginAsync => async app => {
  noStore(app)
  const userinfo = async (req: FastifyRequest) => describeUserinfo(s.users, await verifyLiveAccessToken(s.families, bearerToken(req)))
  app.get('/userinfo', userinfo)
  app.post('/userinfo', userinfo)
}
