import { parseConfig, type Config } from '../../src/config.js'

/** A fixed KEK for tests (never used outside them). */
export const TEST_KEK = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'

/** A valid configuration for tests, with the given fields replaced. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const base = parseConfig({ SIGIL_KEK: TEST_KEK, LOG_LEVEL: 'silent', KEY_ROTATION_INTERVAL: '0' })
  return Object.freeze({ ...base, ...overrides })
}
