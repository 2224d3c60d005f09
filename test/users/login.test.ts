import t from 'tap'
import { InvalidGrant, TooManyRequests } from '../../src/errors.js'
import { createLogger } from '../../src/log.js'
import { authenticateUser } from '../../src/users/login.js'
import { createUser } from '../../src/users/user-registry.js'
import { buildTestApp } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'
import { parseMetrics, valueOf } from '../helpers/prometheus.js'

const PASSWORD = 'correct horse battery staple'
const audit = createLogger('silent')

for (const backend of backends()) {
  t.test(backend.name, async t => {
    t.test('issue 15: authenticateUser counts each login outcome itself, whichever route called it', async t => {
      const { services } = await buildTestApp(t, backend, { config: { rateLimitUserFailures: 1 } })
      await createUser(services.users, { username: 'alice', password: PASSWORD })
      const logins = async (outcome: string) => valueOf(parseMetrics((await services.metrics.render()).body), 'sigil_logins_total', { outcome })

      t.equal((await authenticateUser(services, { username: 'alice', password: PASSWORD }, audit)).username, 'alice')
      await t.rejects(authenticateUser(services, { username: 'alice', password: 'wrong password' }, audit), InvalidGrant)
      await t.rejects(authenticateUser(services, { username: 'alice', password: PASSWORD }, audit), TooManyRequests, 'backing off after one failure')
      t.same(
        { success: await logins('success'), failure: await logins('failure'), throttled: await logins('throttled'), error: await logins('error') },
        { success: 1, failure: 1, throttled: 1, error: 0 })
    })
  })
}
