import { randomBytes } from 'node:crypto'
import type { Config } from '../config.js'
import type { ClientRepo, NewClient } from './client-repository.js'
import { Conflict, InvalidRequest, NotFound } from '../errors.js'
import { clientInput, clientUpdate, describeClient, isClientIdShaped, isPublicClient, type Client } from './client.js'
import type { LoadingCache } from '../cache/loading-cache.js'
import { parsePayload } from '../payload.js'
import { generateClientSecret, hashClientSecret } from './client-secret.js'

export interface ClientDeps {
  repo: ClientRepo
  cache: LoadingCache<Client>
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
  const input = parsePayload(clientInput, payload)
  const isPublic = input.token_endpoint_auth_method === 'none'
  const secret = isPublic ? undefined : input.client_secret ?? generateClientSecret()
  const client: NewClient = {
    // A fresh generation even for a client_id used before: nothing of an earlier registration comes back.
    generation: newGeneration(),
    clientId: input.client_id ?? 'c_' + randomBytes(12).toString('base64url'),
    secretHash: secret === undefined ? null : hashClientSecret(deps.secretKey, secret),
    tokenEndpointAuthMethod: input.token_endpoint_auth_method,
    grantTypes: [...new Set(input.grant_types)],
    scopes: [...new Set(input.scopes)],
    audience: [...new Set(input.audience)],
    signingAlg: input.signing_alg ?? null,
    accessTokenTtlSec: input.access_token_ttl ?? null,
    tokenProfile: input.token_profile,
    redirectUris: [...new Set(input.redirect_uris)],
    postLogoutRedirectUris: [...new Set(input.post_logout_redirect_uris)],
    consent: input.consent,
  }
  if (!(await deps.repo.create(client))) throw new Conflict(`client_id ${client.clientId} is already registered`)
  await changed(deps, client.clientId)
  return describeStored(deps, client.clientId, secret)
}

/**
 * Changes a registered client from an admin payload ({@link clientUpdate}): a new secret
 * (given, or generated with `rotate_secret`), grant types, scopes or audience. A new secret or
 * anything taken away starts a new generation, which ends every token and refresh family issued
 * before, on every instance (issue 11); only widening keeps them. Returns the description, with
 * a new secret shown this once. Throws {@link NotFound} or {@link InvalidRequest}.
 */
export async function updateClient(deps: ClientDeps, clientId: string, payload: unknown): Promise<ClientDescription & { client_secret?: string }> {
  const input = parsePayload(clientUpdate, payload)
  const previous = await deps.repo.find(clientId)
  if (!previous) throw new NotFound(`no client ${clientId}`)
  const secret = input.rotate_secret ? generateClientSecret() : input.client_secret
  if (isPublicClient(previous) && secret !== undefined) throw new InvalidRequest('client_secret: a public client (none) has no secret')
  const grantTypes = input.grant_types === undefined ? previous.grantTypes : [...new Set(input.grant_types)]
  if (isPublicClient(previous) && grantTypes.includes('client_credentials')) {
    throw new InvalidRequest('grant_types: client_credentials needs a confidential client')
  }
  const next: Client = {
    ...previous,
    secretHash: secret === undefined ? previous.secretHash : hashClientSecret(deps.secretKey, secret),
    grantTypes,
    scopes: input.scopes === undefined ? previous.scopes : [...new Set(input.scopes)],
    audience: input.audience === undefined ? previous.audience : [...new Set(input.audience)],
  }
  if (!(await deps.repo.update({ ...next, generation: generationAfter(previous, next) }))) throw new NotFound(`no client ${clientId}`)
  await changed(deps, clientId)
  return describeStored(deps, clientId, secret)
}

async function describeStored(deps: Pick<ClientDeps, 'repo'>, clientId: string, secret: string | undefined) {
  const stored = await deps.repo.find(clientId)
  if (!stored) throw new NotFound(`no client ${clientId}`)
  return { ...describeClient(stored), ...(secret === undefined ? {} : { client_secret: secret }) }
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

/**
 * Deletes a client; its cached copies everywhere are dropped (here at once, elsewhere through
 * the store's `clients` channel), and with them every token and refresh family it holds: those
 * are checked against the client wherever Sigil accepts them. {@link NotFound} for an unknown id.
 */
export async function deleteClient(deps: ClientDeps, clientId: string): Promise<void> {
  if (!isClientIdShaped(clientId) || !(await deps.repo.remove(clientId))) throw new NotFound(`no client ${clientId}`)
  await changed(deps, clientId)
}

/**
 * Creates or updates the bootstrap admin client from SIGIL_ADMIN_CLIENT_ID/SECRET. A changed
 * secret or a narrower registration starts a new generation (see {@link generationAfter}).
 */
export async function ensureAdminClient(deps: ClientDeps, admin: NonNullable<Config['adminClient']>): Promise<void> {
  const next: Omit<NewClient, 'generation'> = {
    clientId: admin.clientId,
    secretHash: hashClientSecret(deps.secretKey, admin.clientSecret),
    tokenEndpointAuthMethod: 'client_secret_basic',
    grantTypes: ['client_credentials'],
    scopes: ['admin'],
    audience: [],
    signingAlg: null,
    accessTokenTtlSec: null,
    tokenProfile: 'rfc9068',
    redirectUris: [],
    postLogoutRedirectUris: [],
    consent: 'first_party',
  }
  await ensureBuiltinClient(deps, next)
}

/**
 * Creates or updates a client defined by the launch settings (the bootstrap admin client, the
 * simplejwt surface's public client). Its generation changes only when something was taken
 * away (see {@link generationAfter}), so a restart keeps its tokens and families alive.
 */
export async function ensureBuiltinClient(deps: ClientDeps, next: Omit<NewClient, 'generation'>): Promise<void> {
  const previous = await deps.repo.find(next.clientId)
  await deps.repo.upsert({ ...next, generation: generationAfter(previous, next) })
  await changed(deps, next.clientId)
}

const newGeneration = () => randomBytes(12).toString('base64url')

/**
 * The generation a client has once it becomes `next`: its old one only when nothing was taken
 * away; a fresh one for a new registration, a changed secret or authentication method, or a
 * grant type, scope or audience removed. Issue 11: nothing issued before may carry more than
 * the client now has, so those changes end every token and refresh family issued before.
 */
function generationAfter(previous: Client | null, next: Omit<NewClient, 'generation'>): string {
  const keeps = (before: readonly string[], after: readonly string[]) => before.every(v => after.includes(v))
  const unchanged = previous !== null
    && previous.secretHash === next.secretHash
    && previous.tokenEndpointAuthMethod === next.tokenEndpointAuthMethod
    && keeps(previous.grantTypes, next.grantTypes)
    && keeps(previous.scopes, next.scopes)
    && keeps(previous.audience, next.audience)
  return unchanged ? previous.generation : newGeneration()
}

/** Drops the client from this instance's cache at once, then from every other instance's. */
async function changed(deps: ClientDeps, clientId: string): Promise<void> {
  deps.cache.evict(clientId)
  await deps.announce(clientId)
}

/**
 * The client behind an id, through the cache; null when unknown. An id no client can have
 * ({@link isClientIdShaped}) is null at once: attacker input never reaches the database.
 */
export async function findClient(deps: Pick<ClientDeps, 'cache'>, clientId: string): Promise<Client | null> {
  return isClientIdShaped(clientId) ? deps.cache.get(clientId) : null
}
