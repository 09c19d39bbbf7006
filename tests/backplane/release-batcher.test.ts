import t from 'tap'
import { ReleaseBatcher, type Release } from '../../src/backplane/redis/release-batcher.js'

/** A send whose calls the test answers by hand. */
function controlledSend (): { send: (batch: Release[]) => Promise<void>, calls: Array<{ batch: Release[], resolve: () => void, reject: (err: Error) => void }> } {
  const calls: Array<{ batch: Release[], resolve: () => void, reject: (err: Error) => void }> = []
  const send = async (batch: Release[]): Promise<void> => {
    await new Promise<void>((resolve, reject) => { calls.push({ batch, resolve, reject }) })
  }
  return { send, calls }
}

const nextTurn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

t.test('the releases of one turn go out together, split at maxBatch, and stay unsettled until answered', async t => {
  const { send, calls } = controlledSend()
  const failed: Release[][] = []
  const batcher = new ReleaseBatcher({ maxBatch: 3, send, failed: batch => failed.push(batch) })
  for (let i = 0; i < 5; i++) batcher.add(`c${i}`, `u${i % 2}`)
  t.equal(calls.length, 0, 'nothing is sent within the turn')
  t.same([...batcher.unsettled()], ['c0', 'c1', 'c2', 'c3', 'c4'], 'queued releases are unsettled')
  await nextTurn()
  t.same(calls.map(call => call.batch), [[['c0', 'u0'], ['c1', 'u1'], ['c2', 'u0']], [['c3', 'u1'], ['c4', 'u0']]], 'two calls, in order')
  t.equal(batcher.size, 5, 'sent but unanswered releases still count')
  calls[0].resolve()
  await nextTurn()
  t.same([...batcher.unsettled()], ['c3', 'c4'], 'an answered call is settled')
  batcher.add('c5', 'u1')
  await nextTurn()
  t.same(calls[2].batch, [['c5', 'u1']], 'a later turn makes a new call')
  calls[1].resolve()
  calls[2].resolve()
  await nextTurn()
  t.equal(batcher.size, 0)
  t.same(failed, [], 'nothing failed')
})

t.test('a call that fails hands its whole batch to failed, once, and no longer counts it', async t => {
  const { send, calls } = controlledSend()
  const failed: Release[][] = []
  const batcher = new ReleaseBatcher({
    maxBatch: 10,
    send,
    failed: batch => {
      // By the time it is handed on, the batch is no longer the batcher's.
      t.same([...batcher.unsettled()], [], 'not counted twice')
      failed.push(batch)
    }
  })
  batcher.add('a', 'ann')
  batcher.add('b', 'bob')
  await nextTurn()
  calls[0].reject(new Error('Connection is closed.'))
  await nextTurn()
  t.same(failed, [[['a', 'ann'], ['b', 'bob']]])
  t.equal(batcher.size, 0)
})
