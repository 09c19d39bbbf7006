import t from 'tap'
import { once } from 'node:events'
import { connect as tcpConnect, createServer, type AddressInfo, type Socket } from 'node:net'
import { PendingGuard } from '../../src/net/pending-guard.js'
import { waitFor, type Test } from '../helper.js'

interface Listening {
  guard: PendingGuard
  /** The server's side of every connection that reached it, refused ones included. */
  accepted: Socket[]
  open: (localAddress?: string) => Promise<Socket>
}

class RecordingLogger {
  readonly warnings: Array<{ obj: Record<string, unknown>, msg: string }> = []
  warn (obj: object, msg: string): void { this.warnings.push({ obj: obj as Record<string, unknown>, msg }) }
}

/** A TCP server on port 0 guarded by a PendingGuard; `open` connects and waits until the server has seen it. */
async function listen (t: Test, max: number, logger: RecordingLogger | null = null): Promise<Listening> {
  const guard = new PendingGuard(max, logger)
  const accepted: Socket[] = []
  const server = createServer(socket => { accepted.push(socket); socket.on('error', () => {}) })
  guard.attach(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const clients: Socket[] = []
  t.teardown(() => {
    for (const client of clients) client.destroy()
    server.close()
  })
  const open = async (localAddress?: string): Promise<Socket> => {
    const seen = accepted.length
    const client = tcpConnect({ port, host: '127.0.0.1', localAddress })
    client.on('error', () => {})
    clients.push(client)
    await waitFor(() => accepted.length > seen, 'the server to accept the connection')
    return client
  }
  return { guard, accepted, open }
}

/** Everything the server sends until it closes the connection. */
async function answer (client: Socket): Promise<string> {
  let text = ''
  client.on('data', chunk => { text += chunk.toString() })
  if (!client.closed) await once(client, 'close')
  return text
}

t.test('connections up to the cap are counted per address and kept open', async t => {
  const { guard, accepted, open } = await listen(t, 2)
  await open()
  await open()
  t.equal(guard.pending('127.0.0.1'), 2)
  t.equal(guard.refused, 0)
  t.ok(accepted.every(socket => !socket.destroyed))
  t.equal(guard.pending('10.0.0.1'), 0, 'an address never seen holds nothing')
})

t.test('one over the cap is answered 429 with a JSON body and closed', async t => {
  const { guard, open } = await listen(t, 1)
  await open()
  const text = await answer(await open())
  const [head, body] = text.split('\r\n\r\n')
  t.match(head, /^HTTP\/1\.1 429 Too Many Requests\r\n/)
  t.match(head, /\r\nRetry-After: 1\r\n/)
  t.match(head, /\r\nConnection: close\r\n/)
  t.match(head, new RegExp(`\\r\\nContent-Length: ${Buffer.byteLength(body)}(\\r\\n|$)`), 'the length is the body\'s in bytes')
  t.match(JSON.parse(body), { statusCode: 429, code: 'PUSH_TOO_MANY_PENDING', message: /at most 1 at a time.*MAX_PENDING_PER_IP/ })
  t.equal(guard.refused, 1)
  t.equal(guard.pending('127.0.0.1'), 1, 'the refused one does not count')
})

t.test('a closed connection frees its place', async t => {
  const { guard, open } = await listen(t, 1)
  const first = await open()
  first.destroy()
  await waitFor(() => guard.pending('127.0.0.1') === 0, 'the close to be counted')
  const second = await open()
  t.equal(guard.pending('127.0.0.1'), 1)
  t.notOk(second.destroyed)
  t.equal(guard.refused, 0)
})

t.test('another address has a cap of its own', async t => {
  const { guard, open } = await listen(t, 1)
  await open('127.0.0.1')
  await open('127.0.0.2')
  t.equal(guard.pending('127.0.0.1'), 1)
  t.equal(guard.pending('127.0.0.2'), 1)
  t.equal(guard.refused, 0)
})

t.test('a released connection (a WebSocket now) stops counting, and its close is not counted again', async t => {
  const { guard, accepted, open } = await listen(t, 2)
  const upgraded = await open()
  await open()
  guard.release(accepted[0])
  t.equal(guard.pending('127.0.0.1'), 1)
  guard.release(accepted[0])
  t.equal(guard.pending('127.0.0.1'), 1, 'releasing twice frees one place')
  await open()
  t.equal(guard.pending('127.0.0.1'), 2)
  upgraded.destroy()
  await once(accepted[0], 'close')
  t.equal(guard.pending('127.0.0.1'), 2, 'the released socket\'s close frees nothing')
  const text = await answer(await open())
  t.match(text, /^HTTP\/1\.1 429/, 'the cap still holds')
})

t.test('releasing nothing or a socket the guard never counted is harmless', async t => {
  const { guard, accepted, open } = await listen(t, 1)
  guard.release(undefined)
  await open()
  const refused = await open()
  await answer(refused)
  guard.release(accepted[1])
  t.equal(guard.pending('127.0.0.1'), 1)
})

t.test('refusals are logged once per ten seconds, with the address and the limit', async t => {
  const logger = new RecordingLogger()
  const { guard, open } = await listen(t, 1, logger)
  await open()
  await answer(await open())
  await answer(await open())
  await answer(await open())
  t.equal(guard.refused, 3)
  t.equal(logger.warnings.length, 1, 'a flood does not flood the log')
  t.match(logger.warnings[0], { obj: { address: '127.0.0.1', refused: 1, limit: 1 }, msg: /MAX_PENDING_PER_IP/ })
})
