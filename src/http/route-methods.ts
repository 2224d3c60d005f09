import type { FastifyInstance } from 'fastify'

/**
 * Records every route registered from now on and returns a lookup: the methods some route
 * answers for a request path (HEAD wherever GET is), or none when no route has that path.
 * Catch-all routes (`*`, such as the CORS preflight) are not recorded: they would make every
 * path known. Call before registering routes.
 */
export function trackRouteMethods(app: FastifyInstance): (path: string) => string[] {
  const routes = new Map<string, { pattern: RegExp; methods: Set<string> }>()
  app.addHook('onRoute', route => {
    if (route.url.includes('*')) return
    const entry = routes.get(route.url) ?? { pattern: patternOf(route.url), methods: new Set<string>() }
    for (const method of [route.method].flat()) entry.methods.add(method)
    routes.set(route.url, entry)
  })
  return path => {
    const allowed = new Set<string>()
    for (const { pattern, methods } of routes.values()) if (pattern.test(path)) methods.forEach(m => allowed.add(m))
    if (allowed.has('GET')) allowed.add('HEAD')
    return [...allowed].sort()
  }
}

/** A route URL as a RegExp over raw request paths: `:param` is one path segment. */
function patternOf(url: string): RegExp {
  const source = url.split('/')
    .map(segment => segment.startsWith(':') ? '[^/]+' : segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('/')
  return new RegExp(`^${source}$`)
}
