/** One `host:port` of a multi-host URL. */
export interface RedisHost {
  readonly host: string
  readonly port: number
}

/** Credentials shared by every data node (not by sentinels, which are reached without them). */
export interface RedisAuth {
  readonly username: string | undefined
  readonly password: string | undefined
  readonly tls: boolean
}

/** Where a `REDIS_URL` points, as {@link parseRedisUrl} reads it. */
export type RedisTarget =
  | { readonly kind: 'standalone'; readonly url: string }
  | (RedisAuth & { readonly kind: 'sentinel'; readonly sentinels: readonly RedisHost[]; readonly name: string; readonly db: number })
  | (RedisAuth & { readonly kind: 'cluster'; readonly nodes: readonly RedisHost[] })

/** The URL forms {@link parseRedisUrl} accepts, for messages and docs. */
const REDIS_URL_FORMS =
  'redis[s]://[[user]:password@]host[:port][/db], redis[s]-sentinel://[[user]:password@]host:port,…/master[/db] ' +
  'or redis[s]-cluster://[[user]:password@]host:port,…'

/** Thrown by {@link parseRedisUrl}; the message never repeats the URL (it may hold a password). */
export class RedisUrlError extends Error {
  override name = 'RedisUrlError'
}

const SCHEME = /^(rediss?)(-sentinel|-cluster)?:\/\/(.*)$/s
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$/
const MASTER_NAME = /^[A-Za-z0-9._-]{1,200}$/

/**
 * Reads a `REDIS_URL` with our own parser (Node's URL refuses a comma-separated host list):
 *
 * - `redis://` / `rediss://`: one server, checked here and handed to ioredis as written;
 * - `redis-sentinel://[[user]:password@]h1:p1,h2:p2/master[/db]` (port default 26379);
 * - `redis-cluster://[[user]:password@]h1:p1,h2:p2` (port default 6379; a cluster has only db 0);
 * - `rediss-sentinel://` and `rediss-cluster://`: the same over TLS (sentinels and data nodes).
 *
 * The user and password are percent-decoded and go to the data nodes only. Hosts are names,
 * IPv4 addresses or bracketed IPv6 addresses. No query string is accepted on the multi-host
 * forms, so a misspelt option cannot be ignored silently. Throws {@link RedisUrlError} with a
 * one-line reason that never repeats the URL.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const m = SCHEME.exec(url)
  if (!m) throw new RedisUrlError(`must be ${REDIS_URL_FORMS}`)
  const [, scheme, variant, rest] = m as unknown as [string, string, string | undefined, string]
  if (variant === undefined) return { kind: 'standalone', url: checkStandalone(url) }
  const kind = variant === '-sentinel' ? 'sentinel' : 'cluster'
  const at = rest.lastIndexOf('@', firstOf(rest, '?'))
  const auth = at >= 0 ? parseUserInfo(rest.slice(0, at)) : { username: undefined, password: undefined }
  const afterAuth = rest.slice(at + 1)
  if (afterAuth.includes('?') || afterAuth.includes('#')) throw new RedisUrlError(`a ${scheme}${variant}:// URL takes no query string or fragment`)
  const slash = afterAuth.indexOf('/')
  const hostList = slash >= 0 ? afterAuth.slice(0, slash) : afterAuth
  const path = slash >= 0 ? afterAuth.slice(slash + 1) : ''
  const hosts = parseHosts(hostList, kind === 'sentinel' ? 26379 : 6379)
  const common = { ...auth, tls: scheme === 'rediss' }
  if (kind === 'cluster') {
    if (path !== '') throw new RedisUrlError('a redis-cluster:// URL takes no path: a cluster has only database 0')
    return { kind, nodes: hosts, ...common }
  }
  const [name, db, ...extra] = path.split('/')
  if (!name || !MASTER_NAME.test(name)) throw new RedisUrlError('a redis-sentinel:// URL needs the master name after the hosts: …/mymaster')
  if (extra.length > 0 || (db !== undefined && !/^\d{1,5}$/.test(db))) {
    throw new RedisUrlError('after the master name a redis-sentinel:// URL takes only a database number: …/mymaster/0')
  }
  return { kind, sentinels: hosts, name, db: db === undefined ? 0 : Number(db), ...common }
}

function firstOf(s: string, c: string): number {
  const i = s.indexOf(c)
  return i >= 0 ? i : s.length
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    throw new RedisUrlError(`the ${what} is not valid percent-encoding`)
  }
}

function parseUserInfo(info: string): { username: string | undefined; password: string | undefined } {
  const colon = info.indexOf(':')
  const user = colon >= 0 ? info.slice(0, colon) : info
  const password = colon >= 0 ? info.slice(colon + 1) : ''
  // `pw@host` (no colon) is the common way to write a password alone, as ioredis reads it too.
  if (colon < 0) return { username: undefined, password: info === '' ? undefined : decode(info, 'password') }
  return { username: user === '' ? undefined : decode(user, 'user name'), password: password === '' ? undefined : decode(password, 'password') }
}

function parseHosts(list: string, defaultPort: number): RedisHost[] {
  if (list === '') throw new RedisUrlError('needs at least one host:port before the path')
  const hosts = list.split(',').map(entry => parseHost(entry.trim(), defaultPort))
  const seen = new Set(hosts.map(h => `${h.host}:${h.port}`))
  if (seen.size !== hosts.length) throw new RedisUrlError('lists the same host:port twice')
  return hosts
}

function parseHost(entry: string, defaultPort: number): RedisHost {
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(.*))?$/.exec(entry)
  const [host, port] = v6 ? [v6[1]!, v6[2]] : splitHostPort(entry)
  if (!v6 && !HOSTNAME.test(host)) throw new RedisUrlError(`has an empty or malformed host in its host list (entry ${JSON.stringify(safeEntry(entry))})`)
  if (port === undefined) return { host, port: defaultPort }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new RedisUrlError(`has a bad port in its host list (entry ${JSON.stringify(safeEntry(entry))}): ports are 1-65535`)
  }
  return { host, port: Number(port) }
}

function splitHostPort(entry: string): [string, string | undefined] {
  const colon = entry.indexOf(':')
  return colon >= 0 ? [entry.slice(0, colon), entry.slice(colon + 1)] : [entry, undefined]
}

/** A host entry is not secret, but keep what is echoed short and printable. */
function safeEntry(entry: string): string {
  return entry.replace(/[^\x20-\x7e]/g, '?').slice(0, 80)
}

function checkStandalone(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new RedisUrlError(`is not a valid URL; ${REDIS_URL_FORMS}`)
  }
  if (u.hostname === '') throw new RedisUrlError('needs a host')
  if (u.hostname.includes(',') || u.host.includes(',')) throw new RedisUrlError('lists several hosts: use redis-cluster:// or redis-sentinel://')
  const db = u.pathname.replace(/^\//, '')
  if (db !== '' && !/^\d{1,5}$/.test(db)) throw new RedisUrlError('takes only a database number as its path: redis://host:6379/0')
  return url
}
