import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../../src/app.js'
import { connect, testConfig, token, waitFor } from '../helper.js'

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

/**
 * Sends an upgrade request for `path` except its final blank line, so the
 * request is complete only when `finish` is called. `answer` is everything
 * the server sent up to its close frame, which is answered as a client would.
 */
async function heldUpgrade (port: number, path: string): Promise<{ finish: () => void, answer: Promise<Buffer> }> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n')
  let received = Buffer.alloc(0)
  const answer = new Promise<Buffer>((resolve, reject) => {
    socket.on('error', reject)
    socket.on('end', () => { reject(new Error(`the server ended the connection after ${JSON.stringify(received.toString('latin1'))}`)) })
    socket.on('data', chunk => {
      received = Buffer.concat([received, chunk])
      const head = received.indexOf('\r\n\r\n')
      const frame = head === -1 ? null : received.subarray(head + 4)
      if (frame === null || frame.length < 2 || frame.length < 2 + (frame[1]! & 0x7f)) return
      // A masked close frame (mask 0) with the same code: the close handshake completes.
      socket.end(Buffer.from([0x88, 0x82, 0, 0, 0, 0, frame[2]!, frame[3]!]))
      resolve(received)
    })
  })
  return { finish: () => { socket.write('\r\n') }, answer }
}

t.test('an upgrade that completes while the app is closing gets a close frame, and the close finishes', async t => {
  const app = await buildApp(testConfig(), { logger: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const held = await heldUpgrade(port, `/api/ws/statistics?token=${token('alice')}`)
  const closed = app.close()
  // The listening socket is gone; the connection already accepted is still served.
  await waitFor(() => !app.server.listening, 'the server to stop listening')
  held.finish()
  const answer = await held.answer
  t.match(answer.toString('latin1'), /^HTTP\/1\.1 101 /, 'the upgrade completes, so a browser can read why it is refused')
  const frame = answer.subarray(answer.indexOf('\r\n\r\n') + 4)
  t.equal(frame[0], 0x88, 'a close frame follows')
  t.equal(frame.readUInt16BE(2), 1001)
  t.equal(frame.subarray(4).toString(), 'server shutting down')
  await closed
  t.notOk(app.server.listening)
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
