import t from 'tap'
import { MemoryHistory } from '../../src/history/memory-history.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'

function event (seq: number): SequencedMessage {
  return { type: 'camera_event', timestamp: new Date(0).toISOString(), seq, camera_id: 'cam', event_type: 'motion', data: {} }
}
const seqs = (list: SequencedMessage[] | null): number[] | null => list === null ? null : list.map(m => m.seq)

t.test('since returns every kept message after last_seq, oldest first', async t => {
  const history = new MemoryHistory({ maxMessages: 10, windowMs: 60_000 })
  t.same(await history.since(0), [], 'nothing published yet: nothing missed')
  for (let seq = 1; seq <= 5; seq++) history.append(event(seq))
  t.same(seqs(await history.since(0)), [1, 2, 3, 4, 5])
  t.same(seqs(await history.since(3)), [4, 5])
  t.same(await history.since(5), [], 'up to date')
})

t.test('a last_seq older than what is kept needs a resync', async t => {
  const history = new MemoryHistory({ maxMessages: 3, windowMs: 60_000 })
  for (let seq = 1; seq <= 5; seq++) history.append(event(seq))
  t.equal(history.size, 3, 'bounded by count')
  t.same(seqs(await history.since(2)), [3, 4, 5], 'the oldest kept message is the next one the client needs')
  t.equal(await history.since(1), null, 'seq 2 was dropped')
})

t.test('a last_seq beyond the newest seq (the sequence restarted) needs a resync', async t => {
  const history = new MemoryHistory({ maxMessages: 3, windowMs: 60_000 })
  t.equal(await history.since(7), null, 'fresh history, client from an earlier run')
  history.append(event(1))
  t.equal(await history.since(7), null)
})

t.test('messages older than the window are dropped, and what they covered is known', async t => {
  let clock = 0
  const history = new MemoryHistory({ maxMessages: 100, windowMs: 1000, now: () => clock })
  history.append(event(1))
  clock = 600
  history.append(event(2))
  clock = 1500
  t.same(seqs(await history.since(1)), [2], 'seq 1 aged out')
  t.equal(await history.since(0), null, 'seq 1 is gone')
  clock = 5000
  t.equal(history.size, 0)
  t.same(await history.since(2), [], 'nothing was missed after the newest seq even with an empty history')
  t.equal(await history.since(1), null)
})

t.test('a history of size 0 keeps nothing and makes every resume a resync', async t => {
  const history = new MemoryHistory({ maxMessages: 0, windowMs: 1000 })
  history.append(event(1))
  t.equal(await history.since(0), null)
  t.same(await history.since(1), [])
})
