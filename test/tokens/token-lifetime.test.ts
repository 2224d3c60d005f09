import t from 'tap'
import { keyMaintenancePeriodMs } from '../../src/keys/key-rotation.js'
import { acceptanceWindowMs, maxAccessTokenTtlSec } from '../../src/tokens/token-lifetime.js'

t.test('issue 15: one acceptance window for revocations and retiring keys: the longest lifetime plus the clock skew, in ms', async t => {
  t.equal(await acceptanceWindowMs({ config: { clockSkewSec: 60 }, maxTokenTtlSec: async () => 900 }), 960_000)
})

t.test('issue 15: the longest access token lifetime is ACCESS_TOKEN_TTL unless a client is registered with a longer one', async t => {
  const config = { accessTokenTtlSec: 900 }
  t.equal(await maxAccessTokenTtlSec(config, { maxAccessTokenTtlSec: async () => null }), 900)
  t.equal(await maxAccessTokenTtlSec(config, { maxAccessTokenTtlSec: async () => 60 }), 900)
  t.equal(await maxAccessTokenTtlSec(config, { maxAccessTokenTtlSec: async () => 3600 }), 3600)
})

t.test('issue 15: key maintenance runs every 5 s, more often (not under 250 ms) for short rotation intervals', async t => {
  t.equal(keyMaintenancePeriodMs({ keyRotationIntervalSec: 0 }), 5000)
  t.equal(keyMaintenancePeriodMs({ keyRotationIntervalSec: 86400 }), 5000)
  t.equal(keyMaintenancePeriodMs({ keyRotationIntervalSec: 4 }), 1000)
  t.equal(keyMaintenancePeriodMs({ keyRotationIntervalSec: 0.5 }), 250)
})
