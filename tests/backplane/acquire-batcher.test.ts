import t from 'tap'
import { AcquireBatcher, type PendingAcquire } from '../../src/backplane/redis/acquire-batcher.js'

/** A batcher whose send records each call and answers every acquire in it as admitted. */
function recording (lingerMs: number): { batcher: AcquireBatcher, calls: string[][], nextCall: () => Promise<string[]> } {
  const calls: string[][] = []
  const waiters: Array<(batch: string[]) => void> = []
  const batcher = new AcquireBatcher({
    timeoutMs: 60_000,
    maxQueued: 1000,
    maxBatch: 100,
    maxInFlight: 2,
    lingerMs,
    send: async (batch: PendingAcquire[]) => {
      const ids = batch.map(pending => pending.connectionId)
      calls.push(ids)
      for (const pending of batch) pending.answer({ ok: true })
      waiters.shift()?.(ids)
    }
  })
  const nextCall = async (): Promise<string[]> => await new Promise(resolve => { waiters.push(resolve) })
  return { batcher, calls, nextCall }
}

const nextTurn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

t.test('the first acquire after a quiet spell is sent at once, however long the linger', async t => {
  // A minute's linger: were it applied to this acquire, the test would time out.
  const { batcher, calls } = recording(60_000)
  t.same(await batcher.submit('ann', 'a1'), { ok: true })
  t.same(calls, [['a1']])
})

t.test('acquires of one turn share a call', async t => {
  const { batcher, calls } = recording(0)
  const results = await Promise.all(['b1', 'b2', 'b3'].map(async id => await batcher.submit('bob', id)))
  t.ok(results.every(result => result.ok))
  t.same(calls, [['b1', 'b2', 'b3']])
})

t.test('while handshakes keep coming, those after a call wait out the linger and go together', async t => {
  const { batcher, calls, nextCall } = recording(300)
  await batcher.submit('cy', 'c1')
  t.same(calls, [['c1']], 'the first went at once')
  // Three more, each in a turn of its own: without the linger each would be a call.
  const second = nextCall()
  const later: Array<ReturnType<typeof batcher.submit>> = []
  for (const id of ['c2', 'c3', 'c4']) {
    later.push(batcher.submit('cy', id))
    await nextTurn()
    await nextTurn()
  }
  t.equal(calls.length, 1, 'nothing more is sent within the linger')
  t.same(await second, ['c2', 'c3', 'c4'], 'one call carried the three')
  t.ok((await Promise.all(later)).every(result => result.ok))
})

t.test('with no linger every turn with acquires makes its own call', async t => {
  const { batcher, calls } = recording(0)
  await batcher.submit('dee', 'd1')
  await batcher.submit('dee', 'd2')
  t.same(calls, [['d1'], ['d2']])
})
