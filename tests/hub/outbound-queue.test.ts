import t from 'tap'
import { newCounters, OutboundQueue, type Sink } from '../../src/hub/outbound-queue.js'

/** A socket stand-in whose unsent bytes the test controls. */
class FakeSink implements Sink {
  writes: Buffer[] = []
  writableLength = 0
  open = true
  slowClosed = 0
  #drain: Array<() => void> = []
  write (bytes: Buffer): void { this.writes.push(bytes); this.writableLength += this.paused ? bytes.length : 0 }
  paused = false
  onceDrain (callback: () => void): void { this.#drain.push(callback) }
  closeSlow (): void { this.slowClosed++; this.open = false }
  drain (): void {
    this.writableLength = 0
    for (const callback of this.#drain.splice(0)) callback()
  }
}

const tick = async (): Promise<void> => await new Promise(resolve => setImmediate(resolve))
const b = (text: string): Buffer => Buffer.from(text)
const limits = { softBytes: 100, hardBytes: 300 }

t.test('frames pushed in one tick go out in one write, in order', async t => {
  const sink = new FakeSink()
  const counters = newCounters()
  const queue = new OutboundQueue(sink, limits, counters)
  queue.push(b('a'), false)
  queue.push(b('b'), false)
  queue.push(b('c'), false)
  t.equal(sink.writes.length, 0, 'nothing is written before the tick ends')
  await tick()
  t.same(sink.writes.map(String), ['abc'])
  t.equal(counters.coalesced, 2)
  queue.push(b('d'), false)
  await tick()
  t.same(sink.writes.map(String), ['abc', 'd'], 'a lone frame is written as it is')
  t.equal(counters.coalesced, 2)
})

t.test('above the soft limit frames wait for drain and a newer snapshot replaces the pending one', async t => {
  const sink = new FakeSink()
  const counters = newCounters()
  const queue = new OutboundQueue(sink, limits, counters)
  sink.writableLength = 150
  queue.push(b('e1'), false)
  queue.push(b('S1'), true)
  await tick()
  t.same(sink.writes, [], 'held back while the socket is backed up')
  queue.push(b('e2'), false)
  queue.push(b('S2'), true)
  queue.push(b('S3'), true)
  queue.push(b('e3'), false)
  await tick()
  t.same(sink.writes, [])
  t.equal(counters.superseded, 2)
  sink.drain()
  t.same(sink.writes.map(String), ['e1S3e2e3'], 'events all kept in order, only the newest snapshot')
  t.equal(sink.slowClosed, 0)
})

t.test('past the hard limit the connection is closed as a slow consumer, never silently trimmed', async t => {
  const sink = new FakeSink()
  const counters = newCounters()
  const queue = new OutboundQueue(sink, limits, counters)
  sink.writableLength = 150
  queue.push(b('x'.repeat(10)), false)
  await tick()
  for (let i = 0; i < 20 && sink.slowClosed === 0; i++) queue.push(b('y'.repeat(10)), false)
  t.equal(sink.slowClosed, 1)
  t.equal(counters.slowConsumerClosed, 1)
  queue.push(b('z'), false)
  sink.drain()
  t.same(sink.writes, [], 'nothing is written after the slow-consumer close')
})

t.test('a closed socket gets nothing', async t => {
  const sink = new FakeSink()
  const queue = new OutboundQueue(sink, limits, newCounters())
  queue.push(b('a'), false)
  sink.open = false
  await tick()
  t.same(sink.writes, [])
})
