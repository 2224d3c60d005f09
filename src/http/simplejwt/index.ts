import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Client } from '../../clients/client.js'
import { findClient } from '../../clients/client-registry.js'
import { InvalidGrant, InvalidRequest, TemporarilyUnavailable } from '../../errors.js'
import { findGrant, runGrant } from '../../grants/index.js'
import type { Logger } from '../../log.js'
import { revokeToken } from '../../revocation/token-revocation.js'
import { verifyLiveAccessToken } from '../../revocation/live-access-token.js'
import type { Services } from '../../services.js'
import { SIMPLEJWT_CLIENT_ID } from '../../simplejwt/simplejwt-client.js'
import { refreshTokenState } from '../../simplejwt/token-state.js'
import { familyIdOf } from '../../refresh/refresh-family.js'
import { limitIpFailures } from '../../rate-limit/attempt-limits.js'
import { noStore } from '../no-store.js'
import { registerRequestCap } from '../request-cap.js'
import { DrfError, installDrfErrors, noActiveAccount, tokenNotValid } from './drf-errors.js'
import { readFields } from './drf-fields.js'

/**
 * Issue 13: djangorestframework-simplejwt's four views (ROTATE_REFRESH_TOKENS and
 * BLACKLIST_AFTER_ROTATION on) under SIMPLEJWT_PREFIX, acting for the built-in public client.
 * Login, rotation and revocation are the token endpoint's own (grants, refresh families,
 * IP failure slots, username back-off, audit lines); only the shapes are simplejwt's.
 */
export const simplejwtRoutes = (s: Services): FastifyPluginAsync => async app => {
  const prefix = s.config.simplejwtPrefix
  if (prefix === null) return
  installDrfErrors(app)
  noStore(app)
  await registerRequestCap(app, s)
  const client = async () => {
    const found = await findClient(s.clients, SIMPLEJWT_CLIENT_ID)
    if (!found) throw new TemporarilyUnavailable('the simplejwt client is not registered yet')
    return found
  }
  const grant = (req: FastifyRequest, c: Client, params: Record<string, string>) =>
    limitIpFailures(s, req.ip, () => runGrant(findGrant(params.grant_type), { client: c, params, ip: req.ip, log: req.log as Logger }, s))

  post(`${prefix}/`, async req => {
    const { username, password } = readFields(req.body, { username: { trim: true }, password: { trim: false } })
    const tokens = await grant(req, await client(), { grant_type: 'password', username, password }).catch(err => {
      // InvalidRequest here is an oversized password: no account has it either.
      if (err instanceof InvalidGrant || err instanceof InvalidRequest) throw noActiveAccount(err.message)
      throw err
    })
    return { refresh: tokens.refresh_token, access: tokens.access_token }
  })

  post(`${prefix}/refresh/`, async req => {
    const { refresh } = readFields(req.body, { refresh: { trim: true } })
    const c = await client()
    if (!familyIdOf(refresh)) throw tokenNotValid(await notLive(c, refresh))
    const tokens = await grant(req, c, { grant_type: 'refresh_token', refresh_token: refresh }).catch(async err => {
      if (err instanceof InvalidGrant) throw tokenNotValid(await notLive(c, refresh))
      throw err
    })
    return { access: tokens.access_token, refresh: tokens.refresh_token }
  })

  post(`${prefix}/verify/`, async req => {
    const { token } = readFields(req.body, { token: { trim: true } })
    if (!familyIdOf(token)) {
      await verifyLiveAccessToken(s.families, token).catch(() => { throw tokenNotValid('invalid') })
      return {}
    }
    const state = await refreshTokenState(s.families, SIMPLEJWT_CLIENT_ID, token)
    if (state === 'blacklisted') throw new DrfError(400, { non_field_errors: ['Token is blacklisted'] })
    if (state !== 'live') throw tokenNotValid(state)
    return {}
  })

  post(`${prefix}/blacklist/`, async req => {
    const { refresh } = readFields(req.body, { refresh: { trim: true } })
    const c = await client()
    const state = await refreshTokenState(s.families, c.clientId, refresh)
    if (state !== 'live') throw tokenNotValid(state)
    await revokeToken(s.families, c, refresh)
    return {}
  })

  /** A POST-only view: other methods get DRF's 405 (HEAD comes with GET). */
  function post(url: string, handler: (req: FastifyRequest) => Promise<object>): void {
    app.post(url, async (req, reply) => reply.send(await handler(req)))
    app.route({
      method: ['GET', 'PUT', 'PATCH', 'DELETE'],
      url,
      handler: async (req, reply) => {
        reply.header('allow', 'POST, OPTIONS')
        throw new DrfError(405, { detail: `Method "${req.method}" not allowed.` })
      },
    })
  }

  /** Why a refresh token the grant refused is not valid; `live` cannot come back after a refusal, so it reads as invalid. */
  async function notLive(c: Client, token: string) {
    const state = await refreshTokenState(s.families, c.clientId, token)
    return state === 'live' ? 'invalid' : state
  }
}
