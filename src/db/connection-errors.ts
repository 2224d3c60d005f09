import { TemporarilyUnavailable } from '../errors.js'

/**
 * Prisma's codes for a database it cannot use right now: P1001 can't reach the server, P1002
 * and P1008 timed out, P1017 the server closed the connection, P2024 no pool connection in time.
 */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024'])
/** @prisma/adapter-pg's error kinds for the same, as carried in a DriverAdapterError's cause. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections'])
/**
 * PostgreSQL SQLSTATEs (class 08 connection exception; 57P01-57P03 the server is shutting down,
 * crashed or starting; 53300 too many connections) and Node's socket errors.
 */
const SQLSTATE = /^(08...|57P0[1-3]|53300)$/
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'])
/** node-postgres throws these without a code when a connection dies or cannot be made in time. */
const PG_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect)/

/**
 * The 503 for an error that says the database is unreachable, shutting down or out of
 * connections (from Prisma, its pg adapter or node-postgres, at any depth of `cause` or of
 * Prisma's `meta.driverAdapterError`), so the client is told to retry instead of getting a
 * 500; undefined for any other error. Never throws.
 */
export function databaseUnavailable(err: unknown): TemporarilyUnavailable | undefined {
  return findConnectionFailure(err, 0)
}

function findConnectionFailure(err: unknown, depth: number): TemporarilyUnavailable | undefined {
  if (typeof err !== 'object' || err === null || depth > 4) return undefined
  const { code, errorCode, kind, originalCode, message, cause, meta } = err as Record<string, unknown>
  const codes = [code, errorCode, originalCode].filter((c): c is string => typeof c === 'string')
  if (codes.some(c => PRISMA_CODES.has(c) || SQLSTATE.test(c) || SOCKET_CODES.has(c)) ||
    (typeof kind === 'string' && ADAPTER_KINDS.has(kind)) ||
    (typeof message === 'string' && PG_MESSAGES.test(message))) {
    return new TemporarilyUnavailable(`database: ${codes[0] ?? kind ?? 'connection failed'}`)
  }
  const adapterError = (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError
  return findConnectionFailure(cause, depth + 1) ?? findConnectionFailure(adapterError, depth + 1)
}
