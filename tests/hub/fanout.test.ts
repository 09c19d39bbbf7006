import t from 'tap'
import { ConnectionHub, type Connection } from '../../src/hub/connection-hub.js'
import type { OutboundFrame } from '../../src/hub/outbound-frame.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'

/** A connection that records the messages it is sent, decoded. */
class Recorder implements Connection {
  readonly received: Array<Record<string, unknown>> = []
  closed = false
  onSend: (() => void) | undefined
  constructor (readonly id: string, readonly userId: string) {}
  send (frame: Buffer): void { this.received.push(JSON.parse(frame.toString())) }
  sendShared (frame: OutboundFrame): void {
    this.onSend?.()
    for (const part of frame.parts ?? [frame]) this.send(part.payload)
  }
  close (): void { this.closed = true }
  terminate (): void { this.closed = true }
  ping (): void {}
  readonly bufferedAmount = 0
}

let seq = 0
function event (camera = 'cam-1'): SequencedMessage {
  return { type: 'camera_event', timestamp: new Date().toISOString(), seq: ++seq, camera_id: camera, event_type: 'motion', data: {} }
}
const seqs = (r: Recorder): unknown[] => r.received.map(m => m.seq)
const idle = async (hub: ConnectionHub): Promise<void> => {
  while (hub.fanoutBacklog > 0) await new Promise(resolve => setImmediate(resolve))
}

t.test('every client gets every message exactly once and in order across slices, with publishes during a fan-out', async t => {
  const hub = new ConnectionHub({ fanoutSliceSize: 7 })
  const clients = Array.from({ length: 50 }, (_, i) => new Recorder(`c${i}`, `u${i % 10}`))
  for (const client of clients) hub.add(client)
  const published: number[] = []
  // Publish while earlier fan-outs are still in progress: from inside a
  // send (mid-slice) and between slices.
  let extra = 0
  clients[3].onSend = () => {
    if (extra++ < 3) { const m = event(); published.push(m.seq); hub.deliver(m) }
  }
  for (let i = 0; i < 5; i++) {
    const m = event()
    published.push(m.seq)
    hub.deliver(m)
    await new Promise(resolve => setImmediate(resolve))
  }
  await idle(hub)
  t.equal(published.length, 8)
  for (const client of clients) t.same(seqs(client), published, `${client.id} got all, once, in order`)
})

t.test('a client that closes mid-fan-out does not break the loop', async t => {
  const hub = new ConnectionHub({ fanoutSliceSize: 4 })
  const clients = Array.from({ length: 20 }, (_, i) => new Recorder(`c${i}`, `u${i}`))
  for (const client of clients) hub.add(client)
  // c2 removes itself and a client not yet reached; c5 throws.
  clients[2].onSend = () => { hub.remove('c2'); hub.remove('c15') }
  clients[5].onSend = () => { throw new Error('socket exploded') }
  const m = event()
  hub.deliver(m)
  await idle(hub)
  for (const client of clients) {
    if (client.id === 'c15' || client.id === 'c5') t.same(seqs(client), [], `${client.id} got nothing`)
    else t.same(seqs(client), [m.seq], `${client.id} got it`)
  }
  t.ok(clients[5].closed, 'the connection whose send failed is terminated')
  const next = event()
  clients[5].onSend = undefined
  hub.deliver(next)
  await idle(hub)
  t.same(seqs(clients[19]), [m.seq, next.seq], 'later fan-outs still run')
})

t.test('a client that joins during a fan-out gets only what is published after it joined', async t => {
  const hub = new ConnectionHub({ fanoutSliceSize: 2 })
  const clients = Array.from({ length: 6 }, (_, i) => new Recorder(`c${i}`, `u${i}`))
  for (const client of clients) hub.add(client)
  const late = new Recorder('late', 'u-late')
  const first = event()
  hub.deliver(first)
  hub.add(late)
  const second = event()
  hub.deliver(second)
  await idle(hub)
  t.same(seqs(late), [second.seq])
  t.same(seqs(clients[5]), [first.seq, second.seq])
})

t.test('batched messages respect subscriptions and per-user alerts, in order', async t => {
  const hub = new ConnectionHub({ fanoutSliceSize: 3 })
  const all = new Recorder('all', 'alice')
  const cam2 = new Recorder('cam2', 'bob')
  hub.add(all)
  hub.add(cam2).subscription.subscribe([], ['cam-2'])
  const messages: SequencedMessage[] = [
    event('cam-1'), event('cam-2'),
    { type: 'alert', timestamp: new Date().toISOString(), seq: ++seq, level: 'warning', message: 'for bob', user_id: 'bob', data: {} },
    event('cam-2'), event('cam-1')
  ]
  for (const m of messages) hub.deliver(m)
  hub.broadcastFrame(Buffer.from('{"type":"statistics_update","data":{}}'), true)
  await idle(hub)
  t.same(seqs(all), [messages[0].seq, messages[1].seq, messages[3].seq, messages[4].seq, undefined])
  t.same(seqs(cam2), [messages[1].seq, messages[2].seq, messages[3].seq, undefined])
})

t.test('fanoutIdle resolves once a broadcast has reached every connection', async t => {
  const hub = new ConnectionHub({ fanoutSliceSize: 2 })
  const clients = Array.from({ length: 9 }, (_, i) => new Recorder(`c${i}`, `u${i}`))
  for (const client of clients) hub.add(client)
  hub.broadcast({ type: 'connection_status', status: 'server_restart', timestamp: new Date().toISOString() } as never)
  t.ok(clients[8].received.length === 0, 'the last connection is served in a later slice')
  await hub.fanoutIdle()
  for (const client of clients) t.equal(client.received.length, 1)
  await hub.fanoutIdle()
  t.pass('resolves at once when idle')
})
