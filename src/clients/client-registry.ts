import { randomBytes } from 'node:crypto'
import type { Config } from '../config.js'
import type { ClientRepo, NewClient } from '../db/client-repo.js'
import { Conflict, InvalidRequest, NotFound } from '../errors.js'
import { clientInput, describeClient, isClientIdShaped, type Client } from './client.js'
import type { ClientCache } from './client-cache.js'
import { generateClientSecret, hashClientSecret } from './client-secret.js'

export interface ClientDeps {
  repo: ClientRepo
  cache: ClientCache
  secretKey: Buffer
  /** Tells every instance that a client changed, so their caches drop it. */
  announce(clientId: string): Promise<void>
}

export type ClientDescription = ReturnType<typeof describeClient>

/**
 * Registers a client from an admin payload (validated here: {@link InvalidRequest} on a bad
 * one). Returns its description with the secret, shown this once. {@link Conflict} if the id is taken.
 */
export async function registerClient(deps: ClientDeps, payload: unknown): Promise<ClientDescription & { client_secret?: string }> {
  const parsed = clientInput.safeParse(payload)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new InvalidRequest(`${issue.path.join('.') || 'body'}: ${issue.message}`)
  }
  const input = parsed.data
  const isPublic = input.token_endpoint_auth_method === 'none'
  const secret = isPublic ? undefined : input.client_secret ?? generateClientSecret()
  const client: NewClient = {
    clientId: input.client_id ?? 'c_' + randomBytes(12).toString('base64url'),
    secretHash: secret === undefined ? null : hashClientSecret(deps.secretKey, secret),
    tokenEndpointAuthMethod: input.token_endpoint_auth_method,
    grantTypes: [...new Set(input.grant_types)],
    scopes: [...new Set(input.scopes)],
    audience: [...new Set(input.audience)],
    signingAlg: input.signing_alg ?? null,
    accessTokenTtlSec: input.access_token_ttl ?? null,
    tokenProfile: input.token_profile,
  }
  if (!(await deps.repo.create(client))) throw new Conflict(`client_id ${client.clientId} is already registered`)
  await deps.announce(client.clientId)
  const stored = await deps.repo.find(client.clientId)
  return { ...describeClient(stored!), ...(secret === undefined ? {} : { client_secret: secret }) }
}

export async function listClients(deps: Pick<ClientDeps, 'repo'>): Promise<ClientDescription[]> {
  return (await deps.repo.list()).map(describeClient)
}

/** {@link NotFound} for an unknown id (one that cannot be a client_id is not looked up). */
export async function getClient(deps: Pick<ClientDeps, 'repo'>, clientId: string): Promise<ClientDescription> {
  const client = isClientIdShaped(clientId) ? await deps.repo.find(clientId) : null
  if (!client) throw new NotFound(`no client ${clientId}`)
  return describeClient(client)
}

/** Deletes a client; its cached copies everywhere are dropped. {@link NotFound} for an unknown id. */
export async function deleteClient(deps: ClientDeps, clientId: string): Promise<void> {
  if (!isClientIdShaped(clientId) || !(await deps.repo.remove(clientId))) throw new NotFound(`no client ${clientId}`)
  await deps.announce(clientId)
}

/** Creates or updates the bootstrap admin client from SIGIL_ADMIN_CLIENT_ID/SECRET. */
export async function ensureAdminClient(deps: ClientDeps, admin: NonNullable<Config['adminClient']>): Promise<void> {
  await deps.repo.upsert({
    clientId: admin.clientId,
    secretHash: hashClientSecret(deps.secretKey, admin.clientSecret),
    tokenEndpointAuthMethod: 'client_secret_basic',
    grantTypes: ['client_credentials'],
    scopes: ['admin'],
    audience: [],
    signingAlg: null,
    accessTokenTtlSec: null,
    tokenProfile: 'rfc9068',
  })
  await deps.announce(admin.clientId)
}

/** The client behind an id, through the cache; null when unknown. */
export function findClient(deps: Pick<ClientDeps, 'cache'>, clientId: string): Promise<Client | null> {
  return deps.cache.get(clientId)
}
