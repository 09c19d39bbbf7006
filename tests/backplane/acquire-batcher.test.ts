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

/** A batcher whose calls stay in flight until the test lets them answer. */
function holding (options: { maxQueued: number, maxBatch: number, lingerMs: number }): {
  batcher: AcquireBatcher
  calls: string[][]
  callMade: () => Promise<void>
  answerAll: () => void
} {
  const calls: string[][] = []
  const held: Array<() => void> = []
  const callWaiters: Array<() => void> = []
  const batcher = new AcquireBatcher({
    timeoutMs: 60_000,
    maxInFlight: 2,
    ...options,
    send: async (batch: PendingAcquire[]) => {
      calls.push(batch.map(pending => pending.connectionId))
      callWaiters.shift()?.()
      await new Promise<void>(resolve => { held.push(resolve) })
      for (const pending of batch) pending.answer({ ok: true })
    }
  })
  return {
    batcher,
    calls,
    callMade: async () => { await new Promise<void>(resolve => { callWaiters.push(resolve) }) },
    answerAll: () => { for (const release of held.splice(0)) release() }
  }
}

t.test('acquires held back by the linger are not refused as a full queue: a call can still go out', async t => {
  const { batcher, calls, callMade, answerAll } = holding({ maxQueued: 1, maxBatch: 5, lingerMs: 60_000 })
  t.teardown(answerAll)
  const first = batcher.submit('eve', 'e1')
  await callMade()
  t.same(calls, [['e1']], 'the first went out')
  // One call of two is in flight: these linger, they do not wait on Redis.
  const lingering = ['e2', 'e3', 'e4'].map(async id => await batcher.submit('eve', id))
  t.equal(batcher.queued, 3)
  t.notOk(batcher.full, 'more than REDIS_ACQUIRE_QUEUE_MAX lingering is not full')
  answerAll()
  t.same(await first, { ok: true })
  t.same(calls, [['e1']], 'the linger still holds the rest')
  // Filling the batch sends it: nothing is left for the minute's linger.
  const second = callMade()
  lingering.push(...['e5', 'e6'].map(async id => await batcher.submit('eve', id)))
  await second
  answerAll()
  t.ok((await Promise.all(lingering)).every(result => result.ok), 'every lingering acquire is admitted')
  t.same(calls, [['e1'], ['e2', 'e3', 'e4', 'e5', 'e6']])
})

t.test('a batch that fills up during the linger goes at once', async t => {
  // A minute's linger: were the full batch held for it, the test would time out.
  const { batcher, calls, callMade, answerAll } = holding({ maxQueued: 100, maxBatch: 3, lingerMs: 60_000 })
  t.teardown(answerAll)
  void batcher.submit('fay', 'f1')
  await callMade()
  const second = callMade()
  const rest = ['f2', 'f3', 'f4'].map(id => batcher.submit('fay', id))
  await second
  t.same(calls, [['f1'], ['f2', 'f3', 'f4']])
  answerAll()
  t.ok((await Promise.all(rest)).every(result => result.ok))
})

t.test('with every call in flight, past maxQueued waiting acquires the next is refused busy at once', async t => {
  const { batcher, calls, callMade, answerAll } = holding({ maxQueued: 2, maxBatch: 1, lingerMs: 0 })
  t.teardown(answerAll)
  const admitted = ['g1', 'g2'].map(id => batcher.submit('gus', id))
  await callMade()
  if (calls.length < 2) await callMade()
  t.same(calls, [['g1'], ['g2']], 'both calls in flight')
  const waiting = ['g3', 'g4'].map(id => batcher.submit('gus', id))
  t.ok(batcher.full, 'two wait behind the calls in flight')
  t.same(await batcher.submit('gus', 'g5'), { ok: false, reason: 'busy' }, 'the next is refused without waiting')
  answerAll()
  t.ok((await Promise.all(admitted)).every(result => result.ok))
  // The two that waited go out as the calls come back.
  for (let i = 0; i < 10 && calls.length < 4; i++) { await nextTurn(); answerAll() }
  t.ok((await Promise.all(waiting)).every(result => result.ok), 'the waiting ones are admitted')
  t.same(calls.flat(), ['g1', 'g2', 'g3', 'g4'], 'g5 was never sent')
})
