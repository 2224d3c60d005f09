import t from 'tap'
import { deleteUser } from '../../src/users/user-registry.js'
import { backends } from '../helpers/backends.js'
import { buildTestApps } from '../helpers/instances.js'
import { setUpSurfaces } from '../helpers/token-surfaces.js'
import { loginThroughApp, refresh } from '../helpers/app.js'
import { sleep } from '../helpers/clock.js'

// Issue 12: the refresh grant reads users from a cache, not the database; a user deleted on
// one instance is dropped from every instance's cache through the store's `users` channel.

for (const backend of backends()) {
  t.test(`${backend.name}: issue 12: a user deleted through one instance can no longer refresh through another that cached them`, async t => {
    const [a, b] = await buildTestApps(t, backend, 2)
    const aliceId = await setUpSurfaces(a!.app)
    const first = await loginThroughApp(a!.app)
    // Through b: b now holds alice in its user cache.
    const second = await refresh(b!.app, first.refresh_token)
    t.equal(second.statusCode, 200, second.body)
    t.ok(await b!.services.users.cache.get(aliceId), 'cached on b')

    // Only the row goes, through a (the admin route also ends her families: that would hide the cache).
    await deleteUser(a!.services.users, aliceId)
    const until = Date.now() + 5000
    while (await b!.services.users.cache.get(aliceId) && Date.now() < until) await sleep(10)
    t.equal(await b!.services.users.cache.get(aliceId), null, 'b dropped her on a\'s announcement')

    const third = await refresh(b!.app, second.json().refresh_token)
    t.equal(third.statusCode, 400)
    t.equal(third.json().error, 'invalid_grant', 'refused: the user is gone')
  })
}
