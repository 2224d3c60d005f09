import { createHash, randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { postToken } from './app.js'

type Response = Awaited<ReturnType<FastifyInstance['inject']>>

/**
 * A browser for app.inject: keeps the cookies Set-Cookie gives it (Max-Age=0 deletes) and
 * sends them back; follows nothing by itself, so tests see every redirect.
 */
export class Browser {
  readonly cookies = new Map<string, string>()
  constructor(private readonly app: FastifyInstance) {}

  async get(url: string): Promise<Response> {
    return this.keep(await this.app.inject({ method: 'GET', url, headers: this.cookieHeader() }))
  }

  async post(url: string, form: Record<string, string>): Promise<Response> {
    return this.keep(await this.app.inject({
      method: 'POST', url, payload: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.cookieHeader() },
    }))
  }

  private cookieHeader(): Record<string, string> {
    return this.cookies.size === 0 ? {} : { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }
  }

  private keep(r: Response): Response {
    const set = r.headers['set-cookie']
    for (const line of set === undefined ? [] : Array.isArray(set) ? set : [set]) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      if (/;\s*Max-Age=0/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, pair!.slice(eq + 1))
    }
    return r
  }
}

/** A fresh RFC 7636 verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** /oauth2/authorize?… from the given parameters (undefined ones left out). */
export function authorizePath(params: Record<string, string | undefined>): string {
  const defined = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)
  return `/oauth2/authorize?${new URLSearchParams(defined).toString()}`
}

/** The hidden inputs of the page's form, by name. */
export function hiddenFields(page: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!
  return fields
}

/** The query of a redirect's Location as an object. */
export function redirectQuery(r: Response): Record<string, string> {
  return Object.fromEntries(new URL(String(r.headers.location)).searchParams)
}

/** Exchanges a code at the token endpoint as a public client. */
export function exchangeCode(app: FastifyInstance, fields: { code: string; redirect_uri: string; code_verifier: string; client_id?: string }, headers: Record<string, string> = {}) {
  return postToken(app, { grant_type: 'authorization_code', ...fields }, headers)
}

export const SPA_CB = 'https://app.example.com/cb'
export const SPA_LOGOUT = 'https://app.example.com/bye'
export const WEB_CB = 'https://web.example.com/cb'
export const TP_CB = 'http://127.0.0.1:8123/cb'
export const WEB_CODE_SECRET = 'web-code-secret-0123456789-0123456789-abcd'

/**
 * Clients of the code flow: `spa` (public, refresh tokens, logout URI), `web` (confidential,
 * Basic) and `tp` (public, third party: consent asked).
 */
export async function registerCodeClients(adminRequest: (payload: object) => Promise<{ statusCode: number; body: string }>): Promise<void> {
  const scopes = ['openid', 'profile', 'email', 'read']
  for (const payload of [
    { client_id: 'spa', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], scopes,
      redirect_uris: [SPA_CB, 'com.example.app:/cb'], post_logout_redirect_uris: [SPA_LOGOUT] },
    { client_id: 'web', client_secret: WEB_CODE_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'],
      scopes, redirect_uris: [WEB_CB] },
    { client_id: 'tp', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], scopes, redirect_uris: [TP_CB], consent: 'third_party' },
  ]) {
    const r = await adminRequest(payload)
    if (r.statusCode !== 201) throw new Error(`client ${payload.client_id}: ${r.statusCode} ${r.body}`)
  }
}
