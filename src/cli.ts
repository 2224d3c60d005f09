#!/usr/bin/env node
import { readFile } from 'node:fs/promises'
import { Command, InvalidArgumentError } from 'commander'
import { systemClock } from './clock.js'
import { ConfigError, parseConfig, SIGNING_ALGS, type Config, type SigningAlg } from './config.js'
import { deleteClient, listClients, registerClient, updateClient } from './clients/client-registry.js'
import { migratePostgres, openDatabase } from './db/database.js'
import { OAuthError } from './errors.js'
import { describeKey, listKeys } from './keys/key-inventory.js'
import { ensureKeys, revokeKey, rotateKeys } from './keys/key-rotation.js'
import { createLogger } from './log.js'
import { serve } from './serve.js'
import { parseWorkersOption, type WorkersOption } from './process/worker-count.js'
import { createServices, type Services } from './services.js'
import { importDjangoUsers } from './users/django-import.js'
import { createUser } from './users/user-registry.js'
import { removeUser } from './users/user-removal.js'

// Whatever Sigil writes (the embedded database in ./data, the development KEK in ./keys) is
// for this user alone, even under a permissive umask such as 000.
process.umask(0o077)

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
  .option('--workers <n>', 'worker processes sharing the port (node:cluster): a number, or auto (one per CPU); SIGHUP reloads them', parseWorkersOption, 1)
  .action(async (opts: { migrate?: boolean; workers: WorkersOption }) => serve(loadConfig(), opts))

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
keys.command('list').action(() => withKeys(async s => ({ keys: await listKeys(s.keys) })))
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
  .requiredOption('--grant-types <list>', 'comma-separated: authorization_code,client_credentials,password,refresh_token', list)
  .option('--scopes <list>', 'comma-separated scopes the client may ask for', list)
  .option('--client-id <id>', 'default: generated')
  .option('--client-secret <secret>', 'at least 32 characters; default: generated (256 bits)')
  .option('--audience <list>', 'comma-separated audiences (default: the issuer)', list)
  .option('--signing-alg <alg>', 'ES256 or RS256', alg)
  .option('--access-token-ttl <seconds>', 'access-token lifetime', int)
  .option('--token-profile <profile>', 'rfc9068 or simplejwt')
  .option('--redirect-uris <list>', 'comma-separated exact redirect URIs (authorization_code)', list)
  .option('--post-logout-redirect-uris <list>', 'comma-separated URIs logout may return to', list)
  .option('--consent <mode>', 'first_party (default: no consent page) or third_party')
  .action((o: Record<string, unknown>) => withServices(s => registerClient(s.clients, {
    client_id: o.clientId, client_secret: o.clientSecret, token_endpoint_auth_method: o.authMethod,
    grant_types: o.grantTypes, scopes: o.scopes, audience: o.audience, signing_alg: o.signingAlg,
    access_token_ttl: o.accessTokenTtl, token_profile: o.tokenProfile, redirect_uris: o.redirectUris,
    post_logout_redirect_uris: o.postLogoutRedirectUris, consent: o.consent,
  })))
clients.command('update').argument('<client_id>')
  .description('change a client; a new secret or anything taken away ends every token it holds')
  .option('--rotate-secret', 'generate a new secret (256 bits), shown once')
  .option('--client-secret <secret>', 'set this secret (at least 32 characters)')
  .option('--grant-types <list>', 'comma-separated: client_credentials,password,refresh_token', list)
  .option('--scopes <list>', 'comma-separated scopes the client may ask for', list)
  .option('--audience <list>', 'comma-separated audiences', list)
  .action((id: string, o: Record<string, unknown>) => withServices(s => updateClient(s.clients, id, {
    client_secret: o.clientSecret, rotate_secret: o.rotateSecret, grant_types: o.grantTypes, scopes: o.scopes, audience: o.audience,
  })))
clients.command('list').action(() => withServices(async s => ({ clients: await listClients(s.clients) })))
clients.command('delete').argument('<client_id>')
  .action((id: string) => withServices(async s => { await deleteClient(s.clients, id); return { deleted: id } }))

const json = (v: string): unknown => {
  try {
    return JSON.parse(v)
  } catch {
    throw new InvalidArgumentError('must be JSON')
  }
}

/**
 * The new user's password: SIGIL_USER_PASSWORD, else stdin to its end (one trailing newline
 * dropped). Never an argument, which `ps` shows to everyone. Read here, not in Config: a
 * one-off secret has no place in the configuration every module is handed.
 */
async function readUserPassword(): Promise<string> {
  const fromEnv = process.env.SIGIL_USER_PASSWORD
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  if (process.stdin.isTTY) process.stderr.write('password, then Ctrl-D: ')
  return (await readStdin()).replace(/\r?\n$/, '')
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const users = program.command('users').description('users who log in with the password grant')
users.command('create').description('the password comes from SIGIL_USER_PASSWORD or stdin')
  .requiredOption('--username <username>', 'matched case-insensitively')
  .option('--email <email>', 'released with the email scope')
  .option('--claims <json>', 'a JSON object of extra /userinfo claims', json)
  .action(async (o: { username: string; email?: string; claims?: unknown }) => {
    const password = await readUserPassword()
    await withServices(s => createUser(s.users, { username: o.username, password, email: o.email, claims: o.claims }))
  })
users.command('delete').argument('<id>')
  .action((id: string) => withServices(async s => {
    await removeUser(s, id)
    return { deleted: id }
  }))

users.command('import').description('users from `manage.py dumpdata auth.user` (a JSON file, - for stdin); run again to sync')
  .argument('<file>')
  .action(async (file: string) => {
    const text = file === '-' ? await readStdin() : await readFile(file, 'utf8')
    let payload: unknown
    try {
      payload = JSON.parse(text)
    } catch {
      throw new InvalidArgumentError(`${file} is not JSON`)
    }
    await withServices(s => importDjangoUsers(s.users, payload, s.log))
  })

program.parseAsync().catch((err: unknown) => {
  const message = err instanceof OAuthError ? `${err.error}: ${err.description}` : err instanceof Error ? err.message : String(err)
  process.stderr.write(`sigil: ${message}\n`)
  // 2, as for a bad variable: a setting found wrong at start (e.g. a KEK file others can read).
  process.exit(err instanceof ConfigError ? 2 : 1)
})
