import t from 'tap'
import { buildTestApp, createUser, login, registerLoginClients } from '../helpers/app.js'
import { backends } from '../helpers/backends.js'

const TRIES = 25

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

for (const backend of backends()) {
  t.test(`${backend.name}: an unknown user takes as long as a wrong password`, async t => {
    // Limits high enough never to trigger, but the throttle's store calls stay on the path.
    const { app } = await buildTestApp(t, backend, { config: { rateLimitUserFailures: 1000, rateLimitIpFailures: 1000 } })
    await registerLoginClients(app)
    await createUser(app, { username: 'alice', password: 'correct horse battery staple' })
    const timed = async (username: string) => {
      const start = process.hrtime.bigint()
      const r = await login(app, 'spa', { username, password: 'not the password' })
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (r.statusCode !== 400) throw new Error(`expected 400, got ${r.statusCode} ${r.body}`)
      return ms
    }
    await timed('alice')
    await timed('warm-up')
    const wrong: number[] = []
    const unknown: number[] = []
    // Interleaved, so load on the machine affects both alike.
    for (let i = 0; i < TRIES; i++) {
      wrong.push(await timed('alice'))
      unknown.push(await timed(`nobody-${i}`))
    }
    const [w, u] = [median(wrong), median(unknown)]
    t.comment(`median ms: wrong password ${w.toFixed(1)}, unknown user ${u.toFixed(1)}`)
    t.ok(Math.max(w, u) / Math.min(w, u) <= 3, `medians within 3× (wrong ${w.toFixed(1)} ms, unknown ${u.toFixed(1)} ms)`)
  })
}
