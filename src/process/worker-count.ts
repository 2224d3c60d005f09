import { availableParallelism } from 'node:os'
import { InvalidArgumentError } from 'commander'
import { ConfigError, type Config } from '../config.js'

/** `--workers`: a count, or `auto` for one worker per CPU. */
export type WorkersOption = number | 'auto'

/** Commander parser for `--workers`: a whole number of at least 1, or `auto`. */
export function parseWorkersOption(value: string): WorkersOption {
  if (value === 'auto') return 'auto'
  if (!/^[1-9]\d{0,3}$/.test(value)) throw new InvalidArgumentError('must be a whole number of at least 1, or auto')
  return Number(value)
}

/**
 * How many worker processes to run. More than one needs PostgreSQL and Redis: PGlite and the
 * in-process store live inside one process, so workers would each have their own database and
 * store. Throws {@link ConfigError} then.
 */
export function resolveWorkerCount(option: WorkersOption, config: Pick<Config, 'databaseUrl' | 'redisUrl'>, cpus = availableParallelism()): number {
  const count = option === 'auto' ? cpus : option
  if (count > 1 && (config.databaseUrl === undefined || config.redisUrl === undefined)) {
    throw new ConfigError(`--workers ${count} needs DATABASE_URL and REDIS_URL: the embedded database and store live in one process`)
  }
  return count
}
