import { randomBytes } from 'node:crypto'
import { createPostgresDatabase } from './backends.js'
import { spawnService, type ServiceProcess } from './process.js'
import { sigilHttp, WEB_BASIC, WEB_CLIENT } from './sigil-http.js'
import { sleep } from './clock.js'
import { PASSWORD } from './app.js'

interface Answer { status: number; body: Record<string, unknown> }

async function post(base: string, form: Record<string, string>): Promise<Answer> {
  const r = await fetch(`${base}/oauth2/token`, { method: 'POST', body: new URLSearchParams(form), headers: { authorization: WEB_BASIC }, signal: AbortSignal.timeout(10_000) })
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) as Record<string, unknown> : {} }
}

/** What {@link refreshLoadAcrossFailover} saw. */
export interface FailoverReport {
  sent: number
  /** Answers by status, before the fault and in all. */
  before: Record<string, number>
  statuses: Record<string, number>
  /**
   * invalid_grant answers to a token Sigil had handed out. `firstTry`: the token was refused the
   * first time it was presented, so the write that issued it (acknowledged with a 200) was lost
   * by the store. `afterRetry`: it was refused after a 503 for it, so the store may have done the
   * rotation and lost only the answer (the token presented again reads as reuse).
   */
  invalidGrants: { firstTry: number; afterRetry: number }
  /**
   * After the load, each chain's token before its newest was presented again: how many were
   * accepted (a family with two live branches; 0 unless the store lost a write) of how many.
   */
  oldTokensAccepted: number
  oldTokensTried: number
  /** Anything but 200, 400 invalid_grant and 503, or no answer at all. */
  unexpected: string[]
  /** From the fault until `fault()` saw a replica promoted. */
  failoverMs: number
  /** From the fault to the last 503 (0 if none came after it). */
  outageMs: number
  /** Refreshes succeeded this long after the failover and the last 503. */
  steadyAfterMs: number
}

/**
 * A bounded load of refresh chains on `base` (one per user: a password login, then refresh
 * after refresh with the newest token), `fault()` run `warmUpMs` in; it resolves once the
 * store has failed over (a replica promoted). The load stops once refreshes have succeeded for
 * `steadyMs` with no 503 after both the failover and the last 503, or after `maxMs`, or after
 * `maxRequests` requests, whichever comes first.
 */
export async function refreshLoadAcrossFailover(opts: {
  base: string; users: string[]; fault(): Promise<void>; warmUpMs?: number; steadyMs?: number; maxMs?: number; maxRequests?: number
}): Promise<FailoverReport> {
  const steadyMs = opts.steadyMs ?? 2000
  const endAt = Date.now() + (opts.maxMs ?? 40_000)
  const report: FailoverReport = { sent: 0, before: {}, statuses: {}, invalidGrants: { firstTry: 0, afterRetry: 0 }, unexpected: [], oldTokensAccepted: 0, oldTokensTried: 0, failoverMs: 0, outageMs: 0, steadyAfterMs: 0 }
  let failedOverAt = 0
  let last503At = 0
  let lastOkAt = 0
  const calmSince = () => Math.max(last503At, failedOverAt)
  const done = () => Date.now() > endAt || report.sent >= (opts.maxRequests ?? 6000) ||
    (failedOverAt > 0 && lastOkAt - calmSince() > steadyMs)
  /** Per chain: the token before the newest, when both came from refreshes of one family. */
  const previous = new Map<string, string>()
  const worker = async (username: string) => {
    let token: string | undefined
    let retrying = false
    while (!done()) {
      report.sent++
      let a: Answer
      try {
        a = token === undefined
          ? await post(opts.base, { grant_type: 'password', username, password: PASSWORD, scope: 'openid read' })
          : await post(opts.base, { grant_type: 'refresh_token', refresh_token: token })
      } catch (err) {
        report.unexpected.push(`no answer: ${(err as Error).message}`)
        await sleep(50)
        continue
      }
      report.statuses[a.status] = (report.statuses[a.status] ?? 0) + 1
      if (a.status === 200) {
        if (token !== undefined) previous.set(username, token)
        else previous.delete(username)
        token = String(a.body.refresh_token)
        retrying = false
        lastOkAt = Date.now()
      } else if (a.status === 503) {
        last503At = Date.now()
        retrying = token !== undefined
        await sleep(50)
      } else if (a.status === 400 && a.body.error === 'invalid_grant') {
        if (token !== undefined) report.invalidGrants[retrying ? 'afterRetry' : 'firstTry']++
        token = undefined
        retrying = false
      } else {
        report.unexpected.push(`${a.status} ${JSON.stringify(a.body).slice(0, 200)}`)
      }
      await sleep(10)
    }
  }
  const load = Promise.all(opts.users.map(worker))
  await sleep(opts.warmUpMs ?? 2000)
  report.before = { ...report.statuses }
  const faultAt = Date.now()
  await opts.fault()
  failedOverAt = Date.now()
  await load
  report.failoverMs = failedOverAt - faultAt
  report.outageMs = last503At > faultAt ? last503At - faultAt : 0
  report.steadyAfterMs = lastOkAt - calmSince()
  for (const old of previous.values()) {
    report.oldTokensTried++
    if ((await post(opts.base, { grant_type: 'refresh_token', refresh_token: old })).status === 200) report.oldTokensAccepted++
  }
  return report
}

/** One line of figures for the test output. */
export function describeFailover(r: FailoverReport): string {
  return `${r.sent} requests; before the fault ${JSON.stringify(r.before)}; in all ${JSON.stringify(r.statuses)}; ` +
    `replica promoted ${(r.failoverMs / 1000).toFixed(1)} s and 503s until ${(r.outageMs / 1000).toFixed(1)} s after the fault; refresh tokens refused: ${r.invalidGrants.firstTry} on first use (acknowledged writes lost), ${r.invalidGrants.afterRetry} after a 503 for them (answers lost); rotated-out tokens accepted afterwards ${r.oldTokensAccepted} of ${r.oldTokensTried}`
}

/**
 * `instances` spawned Sigils (default 1) on one fresh PostgreSQL database and the Redis at
 * `redisUrl`, with the web client (password and refresh_token grants) and `userCount` users for
 * {@link refreshLoadAcrossFailover}. `sigil` is the first instance.
 */
export async function startRefreshTarget(
  t: { teardown(fn: () => unknown): void }, redisUrl: string, userCount: number, instances = 1,
): Promise<{ sigil: ServiceProcess; sigils: ServiceProcess[]; users: string[] }> {
  const databaseUrl = await createPostgresDatabase(t, { migrate: true })
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, ISSUER: 'http://sigil.test', RATE_LIMIT_IP_FAILURES: '0' }
  const sigils = await Promise.all(Array.from({ length: instances }, () => spawnService(t, env)))
  const sigil = sigils[0]!
  const api = sigilHttp(sigil.url)
  await api.createClient({ ...WEB_CLIENT, grant_types: ['password', 'refresh_token'], scopes: ['openid', 'read'] })
  const users = Array.from({ length: userCount }, () => `u-${randomBytes(4).toString('hex')}`)
  for (const username of users) await api.createUser({ username, password: PASSWORD })
  return { sigil, sigils, users }
}

/** Polls `check` every 100 ms until it holds; throws after `ms`. */
export async function waitFor(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms
  while (!await check()) {
    if (Date.now() > until) throw new Error(`${what}: not after ${ms} ms`)
    await sleep(100)
  }
}
