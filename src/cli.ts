#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander'
import { systemClock } from './clock.js'
import { ConfigError, parseConfig, SIGNING_ALGS, type Config, type SigningAlg } from './config.js'
import { deleteClient, listClients, registerClient } from './clients/client-registry.js'
import { migratePostgres, openDatabase } from './db/database.js'
import { OAuthError } from './errors.js'
import { describeKey } from './http/admin/keys.js'
import { ensureKeys, revokeKey, rotateKeys } from './keys/key-rotation.js'
import { createLogger } from './log.js'
import { serve } from './main.js'
import { createServices, type Services } from './services.js'

/** Reads the environment once; a bad value ends the process with one line naming it. */
function loadConfig(): Config {
  try {
    return parseConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sigil: invalid configuration: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
}

/** Runs an operator command against the database the service uses, printing JSON. */
async function withServices(fn: (s: Services) => Promise<unknown>): Promise<void> {
  const config = loadConfig()
  const services = await createServices(config, { clock: systemClock, log: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr) })
  try {
    const out = await fn(services)
    if (out !== undefined) process.stdout.write(JSON.stringify(out, null, 2) + '\n')
  } finally {
    await services.close()
  }
}

/** Key commands first make the keys a first start would make, so a fresh database can be operated. */
const withKeys = (fn: (s: Services) => Promise<unknown>) => withServices(async s => {
  await ensureKeys(s.keys)
  return fn(s)
})

const list = (v: string) => v.split(',').map(x => x.trim()).filter(Boolean)
const int = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number')
  return Number(v)
}
const alg = (v: string): SigningAlg => {
  if (!SIGNING_ALGS.includes(v as SigningAlg)) throw new InvalidArgumentError(`must be one of ${SIGNING_ALGS.join(', ')}`)
  return v as SigningAlg
}

const program = new Command('sigil').description('Sigil OAuth2/OIDC token issuer').showHelpAfterError()

program.command('serve').description('run the service (configured by environment variables)')
  .option('--migrate', 'apply pending database migrations first')
  .action(async (opts: { migrate?: boolean }) => serve(loadConfig(), opts))

program.command('migrate').description('apply pending database migrations')
  .action(async () => {
    const config = loadConfig()
    if (config.databaseUrl) {
      const applied = await migratePostgres(config.databaseUrl)
      process.stdout.write(JSON.stringify({ applied }) + '\n')
    } else {
      await (await openDatabase({ dataDir: config.dataDir })).close()
      process.stdout.write(JSON.stringify({ migrated: config.dataDir }) + '\n')
    }
  })

const keys = program.command('keys').description('signing keys')
keys.command('list').action(() => withKeys(async s => ({ keys: (await s.keys.repo.listAll()).map(describeKey) })))
keys.command('rotate').description('next → current → retiring, and a fresh next')
  .option('--alg <alg>', 'ES256 or RS256 (default: SIGNING_ALG)', alg)
  .option('--force', 'rotate even if the next key is younger than KEY_LEAD_TIME')
  .action((opts: { alg?: SigningAlg; force?: boolean }) => withKeys(async s => {
    const r = await rotateKeys(s.keys, opts.alg ?? s.config.signingAlg, { force: opts.force === true })
    return { current: describeKey(r.current), next: describeKey(r.next), retiring: describeKey(r.retiring) }
  }))
keys.command('revoke').argument('<kid>').description('emergency: withdraw a key at once')
  .action((kid: string) => withKeys(async s => describeKey(await revokeKey(s.keys, kid))))

const clients = program.command('clients').description('registered clients')
clients.command('create')
  .requiredOption('--auth-method <method>', 'client_secret_basic, client_secret_post or none')
  .requiredOption('--grant-types <list>', 'comma-separated: client_credentials,password,refresh_token', list)
  .option('--scopes <list>', 'comma-separated scopes the client may ask for', list)
  .option('--client-id <id>', 'default: generated')
  .option('--client-secret <secret>', 'at least 32 characters; default: generated (256 bits)')
  .option('--audience <list>', 'comma-separated audiences (default: the issuer)', list)
  .option('--signing-alg <alg>', 'ES256 or RS256', alg)
  .option('--access-token-ttl <seconds>', 'access-token lifetime', int)
  .option('--token-profile <profile>', 'rfc9068 or simplejwt')
  .action((o: Record<string, unknown>) => withServices(s => registerClient(s.clients, {
    client_id: o.clientId, client_secret: o.clientSecret, token_endpoint_auth_method: o.authMethod,
    grant_types: o.grantTypes, scopes: o.scopes, audience: o.audience, signing_alg: o.signingAlg,
    access_token_ttl: o.accessTokenTtl, token_profile: o.tokenProfile,
  })))
clients.command('list').action(() => withServices(async s => ({ clients: await listClients(s.clients) })))
clients.command('delete').argument('<client_id>')
  .action((id: string) => withServices(async s => { await deleteClient(s.clients, id); return { deleted: id } }))

program.parseAsync().catch((err: unknown) => {
  const message = err instanceof OAuthError ? `${err.error}: ${err.description}` : err instanceof Error ? err.message : String(err)
  process.stderr.write(`sigil: ${message}\n`)
  process.exit(1)
})
