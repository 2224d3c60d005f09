import type { LoginBranding } from '../../config.js'
import { html, type SafeHtml } from './html.js'

/** The stylesheet every page links: the only style there is (the CSP allows no inline style). */
export const STYLESHEET_PATH = '/oauth2/assets/sigil.css'

/** Human words for the scopes a consent page lists; others are shown as they are. */
const SCOPE_WORDS: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your username',
  email: 'See your email address',
  offline_access: 'Stay signed in when you are away',
}

function layout(b: LoginBranding, title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · ${b.productName}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main class="card">
<header class="brand">${b.logoUrl ? html`<img class="logo" src="${b.logoUrl}" alt="">` : ''}<span class="product">${b.productName}</span></header>
${body}
</main>
</body>
</html>
`.text
}

const alert = (message: string | undefined) => message === undefined ? '' : html`<p class="alert" role="alert">${message}</p>`

export interface LoginPageModel {
  interactionId: string
  csrfToken: string
  clientId: string
  username?: string
  error?: string
}

/** The login form: works without JavaScript; every input labelled; errors announced (role=alert). */
export function loginPage(b: LoginBranding, m: LoginPageModel): string {
  return layout(b, 'Sign in', html`<h1>Sign in</h1>
<p class="lead">to continue to <strong>${m.clientId}</strong></p>
${alert(m.error)}
<form method="post" action="/oauth2/authorize/login" novalidate>
<input type="hidden" name="interaction" value="${m.interactionId}">
<input type="hidden" name="csrf_token" value="${m.csrfToken}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${m.username ?? ''}"${m.username ? '' : html` autofocus`}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${m.username ? html` autofocus` : ''}>
<button type="submit">Sign in</button>
</form>`)
}

export interface ConsentPageModel {
  interactionId: string
  csrfToken: string
  clientId: string
  scope: readonly string[]
}

/** The consent page of a third-party client: the scopes asked for, allow or deny. */
export function consentPage(b: LoginBranding, m: ConsentPageModel): string {
  return layout(b, 'Allow access', html`<h1>Allow access?</h1>
<p class="lead"><strong>${m.clientId}</strong> asks to:</p>
<ul class="scopes">${m.scope.map(s => html`<li>${SCOPE_WORDS[s] ?? s} <code>${s}</code></li>`)}</ul>
<form method="post" action="/oauth2/authorize/consent">
<input type="hidden" name="interaction" value="${m.interactionId}">
<input type="hidden" name="csrf_token" value="${m.csrfToken}">
<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>`)
}

/** An error Sigil shows itself (never redirected): what went wrong, in words a user can act on. */
export function errorPage(b: LoginBranding, m: { title: string; message: string }): string {
  return layout(b, m.title, html`<h1>${m.title}</h1>
<p class="alert" role="alert">${m.message}</p>
<p>Go back to the application and try again.</p>`)
}

export interface LogoutPageModel {
  csrfToken: string
  postLogoutRedirectUri?: string
  clientId?: string
  state?: string
}

/** Asks before logging out when the request did not prove which application sent it. */
export function logoutConfirmPage(b: LoginBranding, m: LogoutPageModel): string {
  const hidden = (name: string, value: string | undefined) => value === undefined ? '' : html`<input type="hidden" name="${name}" value="${value}">`
  return layout(b, 'Sign out', html`<h1>Sign out?</h1>
<p class="lead">You will be signed out of ${b.productName} and the applications you used it for.</p>
<form method="post" action="/oauth2/logout">
<input type="hidden" name="csrf_token" value="${m.csrfToken}">
${hidden('post_logout_redirect_uri', m.postLogoutRedirectUri)}${hidden('client_id', m.clientId)}${hidden('state', m.state)}
<button type="submit" name="logout" value="yes">Sign out</button>
</form>`)
}

/** After logout with nowhere registered to return to. */
export function loggedOutPage(b: LoginBranding): string {
  return layout(b, 'Signed out', html`<h1>You are signed out</h1>
<p>You can close this window.</p>`)
}

/** The stylesheet, with the accent colour (validated `#rgb`/`#rrggbb` in config) as a variable. */
export function stylesheet(b: LoginBranding): string {
  return `:root{--accent:${b.accentColor};--fg:#1d2330;--muted:#5b6475;--bg:#f3f5f9;--card:#fff;--danger:#b3261e}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;background:var(--bg);color:var(--fg);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;padding:24px 16px}
.card{width:100%;max-width:400px;background:var(--card);border-radius:12px;padding:28px 24px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.brand{display:flex;align-items:center;gap:10px;margin-bottom:20px;font-weight:600}
.logo{max-height:40px;max-width:160px}
h1{font-size:1.5rem;margin:0 0 4px}
.lead{color:var(--muted);margin:0 0 20px;overflow-wrap:anywhere}
label{display:block;font-weight:600;margin:16px 0 6px}
input[type=text],input[type=password]{width:100%;font:inherit;padding:10px 12px;border:1px solid #b9c0cc;border-radius:8px}
input:focus,button:focus{outline:3px solid var(--accent);outline-offset:1px}
button{display:block;width:100%;margin-top:24px;font:inherit;font-weight:600;padding:11px 12px;border:0;border-radius:8px;
background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:transparent;color:var(--fg);border:1px solid #b9c0cc;margin-top:12px}
.actions button{margin-top:12px}
.alert{background:#fdecea;color:var(--danger);border-radius:8px;padding:10px 12px;margin:0 0 8px;overflow-wrap:anywhere}
.scopes{padding-left:20px}
.scopes code{color:var(--muted);font-size:.85em}
`
}
