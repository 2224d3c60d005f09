import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { LOGIN_OUTCOMES, type Metrics } from './ports.js'

/** A published signing key as the gauges see it. */
export interface KeySample { kid: string; alg: string; state: string; createdAt: Date }

export type Dependency = 'database' | 'store'

/** {@link Metrics} plus what the HTTP layer records and the scrape endpoint renders. */
export interface PrometheusMetrics extends Metrics {
  /** This instance's own registry (never prom-client's global one): several apps may share a process. */
  readonly registry: Registry
  /** One finished HTTP request; `route` is the route pattern (`/admin/clients/:client_id`), never the URL. */
  httpRequest(labels: { route: string; method: string; status: number }, durationSec: number): void
  /** Replaces the signing-key gauges with `keys` (age as of `nowMs`, epoch ms). */
  signingKeys(keys: readonly KeySample[], nowMs: number): void
  dependencyUp(dependency: Dependency, up: boolean): void
  /** The Prometheus text exposition of the registry. */
  render(): Promise<{ contentType: string; body: string }>
}

const MAX_HTTP_SERIES = 1000

/** Token issuance takes milliseconds; a login's argon2 ~15 ms; a slow dependency seconds. */
const LATENCY_BUCKETS_SEC = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * Node's process metrics (CPU, memory, event-loop lag, GC) describe the process, not an
 * instance: collected once per process, whatever the number of apps in it (tests build many).
 */
let processRegistry: Registry | undefined

/** A fresh registry with Sigil's metrics; rendered together with the process metrics. */
export function createPrometheusMetrics(): PrometheusMetrics {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  const shared = processRegistry
  const registry = new Registry()
  const registers = [registry]
  const httpLabels = ['route', 'method', 'status'] as const
  const requests = new Counter({ name: 'sigil_http_requests_total', help: 'HTTP requests answered, by route pattern, method and status', labelNames: httpLabels, registers })
  const latency = new Histogram({
    name: 'sigil_http_request_duration_seconds', help: 'HTTP request latency, by route pattern, method and status',
    labelNames: httpLabels, buckets: LATENCY_BUCKETS_SEC, registers,
  })
  const tokens = new Counter({ name: 'sigil_tokens_issued_total', help: 'access tokens issued, by grant_type', labelNames: ['grant_type'], registers })
  const reuse = new Counter({ name: 'sigil_refresh_token_reuse_total', help: 'rotated refresh tokens presented again (family revoked)', registers })
  const storeLoss = new Counter({ name: 'sigil_store_data_loss_total', help: 'times the store (Redis) was found to have lost its data; tokens issued before each are inactive', registers })
  const limited = new Counter({ name: 'sigil_rate_limited_total', help: 'requests refused with 429 by a rate limit, by route pattern', labelNames: ['route'], registers })
  const logins = new Counter({ name: 'sigil_logins_total', help: 'password logins (password grant, SimpleJWT, hosted login page), by outcome', labelNames: ['outcome'], registers })
  const keyAge = new Gauge({ name: 'sigil_signing_key_age_seconds', help: 'seconds since each published signing key was created', labelNames: ['kid', 'alg'], registers })
  const keyState = new Gauge({ name: 'sigil_signing_key_state', help: '1 for the state (next, current, retiring) each published signing key is in', labelNames: ['kid', 'alg', 'state'], registers })
  const up = new Gauge({ name: 'sigil_dependency_up', help: '1 if the dependency answered its last probe (/readyz or a scrape), else 0', labelNames: ['dependency'], registers })
  for (const outcome of LOGIN_OUTCOMES) logins.inc({ outcome }, 0)
  // Each request's two series, looked up once per label set instead of hashing the labels twice per request.
  const httpSeries = new Map<string, { count: { inc(): void }; latency: { observe(value: number): void } }>()
  return {
    registry,
    tokenIssued: grantType => tokens.inc({ grant_type: grantType }),
    refreshReuse: () => reuse.inc(),
    storeDataLost: () => storeLoss.inc(),
    rateLimited: route => limited.inc({ route }),
    loginOutcome: outcome => logins.inc({ outcome }),
    httpRequest: ({ route, method, status }, durationSec) => {
      const key = `${method} ${status} ${route}`
      let series = httpSeries.get(key)
      if (!series) {
        const labels = { route, method, status: String(status) }
        series = { count: requests.labels(labels), latency: latency.labels(labels) }
        // Routes are patterns and methods and statuses few: this bound is only a backstop.
        if (httpSeries.size >= MAX_HTTP_SERIES) httpSeries.clear()
        httpSeries.set(key, series)
      }
      series.count.inc()
      series.latency.observe(durationSec)
    },
    signingKeys: (keys, nowMs) => {
      keyAge.reset()
      keyState.reset()
      for (const k of keys) {
        keyAge.set({ kid: k.kid, alg: k.alg }, Math.max(0, Math.floor((nowMs - k.createdAt.getTime()) / 1000)))
        keyState.set({ kid: k.kid, alg: k.alg, state: k.state }, 1)
      }
    },
    dependencyUp: (dependency, isUp) => up.set({ dependency }, isUp ? 1 : 0),
    render: async () => ({ contentType: registry.contentType, body: await Registry.merge([shared, registry]).metrics() }),
  }
}
