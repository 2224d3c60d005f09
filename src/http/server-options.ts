import type { ServerOptions } from 'node:http'
import type { Config } from '../config.js'

/**
 * How often Node looks for requests past HTTP_HEADERS_TIMEOUT or HTTP_REQUEST_TIMEOUT. Node's
 * default (30 s) lets a stalled request outlive its limit by that much; a check per second
 * costs a walk over the connections that have an unfinished request.
 */
export const CONNECTIONS_CHECK_INTERVAL_MS = 1000

type Timeouts = Pick<Config, 'httpHeadersTimeoutSec' | 'httpRequestTimeoutSec' | 'httpKeepAliveTimeoutSec' | 'httpConnectionTimeoutSec'>

/**
 * The slow-client limits of a listener, so that a few hundred connections that trickle or
 * stall cannot hold an instance's sockets and memory (Fastify's own default never ends a
 * request whose body does not finish):
 * - headers must be complete within HTTP_HEADERS_TIMEOUT (a connection that sends nothing
 *   counts too), the whole request (headers and body) within HTTP_REQUEST_TIMEOUT: a client
 *   that sends one byte now and then is cut off all the same. Node answers 408 and closes;
 * - a connection with no traffic at all for HTTP_CONNECTION_TIMEOUT while its request is
 *   handled or its answer written (a client that does not read) is closed;
 * - an idle keep-alive connection is closed after HTTP_KEEP_ALIVE_TIMEOUT. This one must stay
 *   above the idle timeout of the proxy in front (nginx upstream `keepalive_timeout` 60 s, AWS
 *   ALB 60 s), so that the proxy, not Sigil, closes idle connections: otherwise the proxy may
 *   send a request on a connection Sigil is closing, and answer it with a 502.
 */
export function httpServerOptions(config: Timeouts): {
  connectionTimeout: number; keepAliveTimeout: number; requestTimeout: number; http: ServerOptions
} {
  const requestTimeout = config.httpRequestTimeoutSec * 1000
  return {
    connectionTimeout: config.httpConnectionTimeoutSec * 1000,
    keepAliveTimeout: config.httpKeepAliveTimeoutSec * 1000,
    requestTimeout,
    http: { headersTimeout: config.httpHeadersTimeoutSec * 1000, requestTimeout, connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS },
  }
}
