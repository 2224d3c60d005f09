import type { ClientDeps } from '../clients/client-registry.js'
import { ensureBuiltinClient } from '../clients/client-registry.js'
import type { Config } from '../config.js'

/**
 * The client the simplejwt-compatible endpoints act for. A colon is outside the alphabet of
 * registered client ids (clients/client.ts), so no admin can register or shadow it.
 */
export const SIMPLEJWT_CLIENT_ID = 'sigil:simplejwt'

/**
 * Creates or updates the simplejwt surface's built-in public client from the launch settings
 * alone: password and refresh grants, the simplejwt token profile, SIGNING_ALG (`null`: it
 * follows the setting), tokens for the issuer itself (`aud` = ISSUER), no scopes.
 */
export async function ensureSimplejwtClient(deps: ClientDeps, config: Pick<Config, 'simplejwtPrefix'>): Promise<void> {
  if (config.simplejwtPrefix === null) return
  await ensureBuiltinClient(deps, {
    clientId: SIMPLEJWT_CLIENT_ID,
    secretHash: null,
    tokenEndpointAuthMethod: 'none',
    grantTypes: ['password', 'refresh_token'],
    scopes: [],
    audience: [],
    signingAlg: null,
    accessTokenTtlSec: null,
    tokenProfile: 'simplejwt',
    redirectUris: [],
    postLogoutRedirectUris: [],
    consent: 'first_party',
  })
}
