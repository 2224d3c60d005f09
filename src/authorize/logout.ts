import { compactVerify, decodeProtectedHeader } from 'jose'
import type { TokenDeps } from '../tokens/access-token.js'

/**
 * OIDC RP-Initiated Logout 1.0 §2: the `id_token_hint` says which client sends the user and
 * for whom. It must be an ID token (`typ: JWT`) of this issuer signed by one of our published
 * keys; an expired one is accepted (§2: the RP may hold an expired token). Returns its
 * audience (the client) and subject, or null for anything else. Never throws.
 */
export async function verifyIdTokenHint(deps: Pick<TokenDeps, 'ring' | 'config'>, hint: string): Promise<{ clientId: string; sub: string } | null> {
  try {
    const header = decodeProtectedHeader(hint)
    if (header.typ !== 'JWT' || header.kid === undefined) return null
    const key = deps.ring.verificationKey(header.kid)
    if (!key) return null
    const { payload } = await compactVerify(hint, key.publicKey, { algorithms: [key.alg] })
    const claims = JSON.parse(new TextDecoder().decode(payload)) as { iss?: unknown; aud?: unknown; sub?: unknown }
    if (claims.iss !== deps.config.issuer || typeof claims.aud !== 'string' || typeof claims.sub !== 'string') return null
    return { clientId: claims.aud, sub: claims.sub }
  } catch {
    return null
  }
}
