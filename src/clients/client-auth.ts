import { InvalidClient, InvalidRequest } from '../errors.js'
import { isClientIdShaped, isPublicClient, type Client } from './client.js'
import { verifyClientSecret } from './client-secret.js'

export interface ClientCredentials {
  /** The Authorization header, if any. */
  authorization: string | undefined
  /** client_id / client_secret from the request body, if any. */
  clientId: string | undefined
  clientSecret: string | undefined
}

export interface ClientAuthDeps {
  findClient(clientId: string): Promise<Client | null>
  secretKey: Buffer
}

/**
 * Authenticates the client of a token-endpoint request: `client_secret_basic` (RFC 6749
 * §2.3.1, id and secret form-urlencoded inside Basic), `client_secret_post`, or `none` for a
 * public client. Confidential clients may use either secret method. Throws
 * {@link InvalidClient} for every failure, the same whatever the cause (malformed credentials
 * included: undecodable Basic, a client_id outside the alphabet of client ids, which is never
 * looked up), and {@link InvalidRequest} when more than one method is used (§2.3).
 */
export async function authenticateClient(deps: ClientAuthDeps, creds: ClientCredentials): Promise<Client> {
  const basic = parseBasic(creds.authorization)
  if (basic && creds.clientSecret !== undefined) throw new InvalidRequest('use one client authentication method, not two')
  if (basic && creds.clientId !== undefined && creds.clientId !== basic.clientId) {
    throw new InvalidRequest('client_id in the body differs from the one in the Authorization header')
  }
  const clientId = basic?.clientId ?? creds.clientId
  const secret = basic?.secret ?? creds.clientSecret
  if (clientId === undefined || clientId === '') throw new InvalidClient('no client identification')
  if (!isClientIdShaped(clientId)) throw new InvalidClient('malformed client_id')
  const client = await deps.findClient(clientId)
  if (secret === undefined) {
    if (client && isPublicClient(client)) return client
    throw new InvalidClient(client ? 'confidential client sent no secret' : 'unknown client')
  }
  // Hash even for unknown or public clients, so timing tells nothing about which ids exist.
  const ok = verifyClientSecret(deps.secretKey, secret, client?.secretHash ?? null)
  if (!client || !ok) throw new InvalidClient(client ? 'wrong client secret' : 'unknown client')
  return client
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true })

/** undefined when there is no Basic header; throws InvalidClient when it is malformed. */
function parseBasic(header: string | undefined): { clientId: string; secret: string } | undefined {
  if (header === undefined) return undefined
  const match = /^Basic +([A-Za-z0-9+/=._~-]+) *$/i.exec(header)
  if (!match) {
    if (/^Basic\b/i.test(header)) throw new InvalidClient('malformed Basic credentials')
    throw new InvalidClient('the token endpoint accepts only Basic authentication in the Authorization header')
  }
  try {
    // Invalid UTF-8 throws (raw bytes here, percent escapes in formDecode) instead of turning into U+FFFD.
    const decoded = STRICT_UTF8.decode(Buffer.from(match[1]!, 'base64'))
    const colon = decoded.indexOf(':')
    if (colon < 0) throw new InvalidClient('malformed Basic credentials')
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) }
  } catch {
    throw new InvalidClient('malformed Basic credentials')
  }
}

/** application/x-www-form-urlencoded decoding of one value (RFC 6749 Appendix B). */
function formDecode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '))
}
