import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../../src/app.js'
import { connect, testConfig, waitFor } from '../helper.js'

t.test('closing the app closes every connection with 1001 and frees every slot', async t => {
  const app = await buildApp(testConfig({ STATS_INTERVAL_MS: 100 }), { logger: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const server = { app, port, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/api/ws/statistics` }
  const a = await connect(server, t, 'a')
  const b = await connect(server, t, 'b')
  await app.close()
  t.same(await a.closed, { code: 1001, reason: 'server shutting down' })
  t.equal((await b.closed).code, 1001)
  await waitFor(() => app.hub.size === 0, 'every slot to be freed')
  t.equal(app.hub.size, 0)
})

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Starts the server process with `env` and waits for it to exit. */
async function exitOf (env: Record<string, string | undefined>): Promise<{ code: number, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: root, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', chunk => { stderr += chunk })
  const [code] = await once(child, 'exit')
  return { code, stderr }
}

t.test('production refuses to start without a secret, in one clear line', async t => {
  const { code, stderr } = await exitOf({ NODE_ENV: 'production', PORT: '0' })
  t.equal(code, 1)
  t.match(stderr, /config error: JWT_SECRET or JWT_PUBLIC_KEY must be set when NODE_ENV=production/)
})

t.test('a bad variable stops the service with a message naming it', async t => {
  const { code, stderr } = await exitOf({ PORT: 'eighty', MAX_CONNECTIONS_PER_USER: '0' })
  t.equal(code, 1)
  t.match(stderr, /PORT="eighty" is not a whole number/)
  t.match(stderr, /MAX_CONNECTIONS_PER_USER=0 is out of range/)
})
