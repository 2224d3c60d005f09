import { createServer } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { systemClock, type Clock } from '../../src/clock.js'
import type { Config } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { createServices, type Services } from '../../src/services.js'
import { ADMIN } from './app.js'
import { openTestDatabase, openTestStore, type Backend } from './backends.js'
import { testConfig } from './config.js'

/** A port nobody is listening on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    }).on('error', reject)
  })
}

/** A real listening service on 127.0.0.1 (with the system clock unless told otherwise); its issuer is its own URL. */
export async function startTestServer(
  t: { teardown(fn: () => unknown): void }, backend: Backend, config: Partial<Config> = {}, clock: Clock = systemClock,
): Promise<{ app: FastifyInstance; services: Services; issuer: string }> {
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const db = await openTestDatabase(t, backend.db)
  const store = await openTestStore(t, backend.store)
  const services = await createServices(testConfig({ issuer, port, host: '127.0.0.1', adminClient: ADMIN, ...config }),
    { clock, log: createLogger('silent'), db, store })
  await services.start()
  const app = await buildApp(services)
  await app.listen({ host: '127.0.0.1', port })
  t.teardown(async () => {
    await app.close()
    await services.close()
  })
  return { app, services, issuer }
}
