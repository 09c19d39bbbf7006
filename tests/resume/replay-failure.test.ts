import t from 'tap'
import type { History } from '../../src/history/history.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'
import { Client, connect, LogCapture, startServer, token } from '../helper.js'

/**
 * A replay that fails part-way (here: a kept message that cannot be
 * encoded) answers its own connection with close 1011 and a log line; it
 * used to run under `void` without a catch and reach the process as an
 * unhandled rejection.
 */
t.test('a replay that throws closes that connection with 1011 and the service keeps serving', async t => {
  const broken = { type: 'camera_event', timestamp: new Date().toISOString(), seq: 1, camera_id: 'cam', event_type: 'motion', data: {} } as SequencedMessage & { data: Record<string, unknown> }
  broken.data.self = broken // JSON.stringify throws on a cycle
  const history: History = {
    append () {},
    async since () { return [broken] }
  }
  const logs = new LogCapture()
  const server = await startServer(t, { LOG_LEVEL: 'error', RESUME_GRACE_MS: 0 }, { history, logStream: logs })
  const bystander = await connect(server, t, 'bystander')

  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}&last_seq=0`, t)
  const closed = await client.closed
  t.equal(closed.code, 1011, 'closed with 1011')
  t.match(closed.reason, /resume failed.*reconnect with last_seq/)
  t.ok(logs.lines.some(line => /resume failed: the replay broke off/.test(String(line.msg))), 'logged')

  await bystander.roundTrip()
  t.pass('another connection is still served')
  t.equal((await fetch(`${server.url}/healthz`)).status, 200)
})
