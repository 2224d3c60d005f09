import type { SigningKeyRepo, SigningKeyRow } from './signing-key-repository.js'

/** A key as operators see it (admin API and CLI): no key material, every transition time. */
export function describeKey(k: SigningKeyRow) {
  const iso = (d: Date | null) => d?.toISOString() ?? null
  return {
    kid: k.kid, alg: k.alg, state: k.state, created_at: iso(k.createdAt), activated_at: iso(k.activatedAt),
    retiring_at: iso(k.retiringAt), retire_after: iso(k.retireAfter), retired_at: iso(k.retiredAt), revoked_at: iso(k.revokedAt),
  }
}

/** Every key ever made, newest first, as {@link describeKey} shows it. Throws when the database does. */
export async function listKeys(deps: { repo: Pick<SigningKeyRepo, 'listAll'> }): Promise<Array<ReturnType<typeof describeKey>>> {
  return (await deps.repo.listAll()).map(describeKey)
}

/** The keys the JWKS publishes now (next, current, retiring), without private material. Throws when the database does. */
export async function listPublishedKeys(deps: { repo: Pick<SigningKeyRepo, 'listPublished'> }): Promise<SigningKeyRow[]> {
  return deps.repo.listPublished()
}
