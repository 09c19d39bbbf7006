import t from 'tap'
import { IdempotencyKeys, MAX_IDEMPOTENCY_KEYS } from '../../src/bus/idempotency.js'

/** A publish that counts its runs and answers the next seq. */
function counter (): { publish: () => Promise<number>, runs: () => number } {
  let next = 0
  return { publish: async () => ++next, runs: () => next }
}

t.test('the in-memory keys expire after the window and are capped, oldest first', async t => {
  let clock = 0
  const keys = new IdempotencyKeys({ windowMs: 1000, maxKeys: 2, now: () => clock })
  let next = 0
  const publish = async (): Promise<number> => ++next
  t.same(await keys.once('a', publish), { seq: 1, replayed: false })
  t.same(await keys.once('a', publish), { seq: 1, replayed: true })
  t.same(await keys.once('b', publish), { seq: 2, replayed: false })
  t.same(await keys.once('c', publish), { seq: 3, replayed: false })
  t.equal(keys.size, 2, 'capped')
  t.same(await keys.once('a', publish), { seq: 4, replayed: false }, 'the oldest key was dropped')
  clock = 1000
  t.same(await keys.once('c', publish), { seq: 5, replayed: false }, 'an expired key publishes again')
  await t.rejects(keys.once('d', async () => { throw new Error('bus down') }))
  t.same(await keys.once('d', publish), { seq: 6, replayed: false }, 'a failed publish leaves no key behind')
})

t.test('a publish without a key always runs and is never a replay', async t => {
  const keys = new IdempotencyKeys({ windowMs: 1000 })
  const { publish, runs } = counter()
  t.same(await keys.once(undefined, publish), { seq: 1, replayed: false })
  t.same(await keys.once(undefined, publish), { seq: 2, replayed: false })
  t.equal(runs(), 2)
  t.equal(keys.size, 0, 'nothing is remembered')
})

t.test('a window of 0 ignores keys', async t => {
  const keys = new IdempotencyKeys({ windowMs: 0 })
  const { publish, runs } = counter()
  await keys.once('k', publish)
  t.same(await keys.once('k', publish), { seq: 2, replayed: false })
  t.equal(runs(), 2)
  t.equal(keys.size, 0)
})

t.test('a key is remembered until just before the window ends', async t => {
  let clock = 0
  const keys = new IdempotencyKeys({ windowMs: 1000, now: () => clock })
  const { publish } = counter()
  await keys.once('k', publish)
  clock = 999
  t.same(await keys.once('k', publish), { seq: 1, replayed: true })
  clock = 1000
  t.same(await keys.once('k', publish), { seq: 2, replayed: false }, 'the window is measured from the first publish, not the replay')
})

t.test('a duplicate that arrives while the first publish runs waits for it and shares its seq', async t => {
  const keys = new IdempotencyKeys({ windowMs: 1000 })
  let finish!: (seq: number) => void
  let runs = 0
  const slow = async (): Promise<number> => { runs++; return await new Promise<number>(resolve => { finish = resolve }) }
  const first = keys.once('k', slow)
  const second = keys.once('k', slow)
  finish(41)
  t.same(await first, { seq: 41, replayed: false })
  t.same(await second, { seq: 41, replayed: true })
  t.equal(runs, 1, 'the publish ran once')
})

t.test('when the first publish fails, the duplicate waiting for it fails too, and a retry publishes', async t => {
  const keys = new IdempotencyKeys({ windowMs: 1000 })
  let fail!: (err: Error) => void
  const first = keys.once('k', async () => await new Promise<number>((_resolve, reject) => { fail = reject }))
  const second = keys.once('k', async () => 99)
  fail(new Error('bus down'))
  await t.rejects(first, /bus down/)
  await t.rejects(second, /bus down/, 'it cannot answer a seq that was never given')
  t.same(await keys.once('k', async () => 7), { seq: 7, replayed: false })
})

t.test('expired keys are pruned as new ones arrive, so the map does not grow past the window', async t => {
  let clock = 0
  const keys = new IdempotencyKeys({ windowMs: 100, now: () => clock })
  const { publish } = counter()
  for (let i = 0; i < 50; i++) {
    await keys.once(`k${i}`, publish)
    clock += 10
  }
  t.equal(keys.size, 10, 'only the keys of the last 100 ms remain')
})

t.test('the default cap is MAX_IDEMPOTENCY_KEYS', async t => {
  const keys = new IdempotencyKeys({ windowMs: 60_000 })
  const publish = async (): Promise<number> => 1
  // Started together: each call files its key before its first await.
  await Promise.all(Array.from({ length: MAX_IDEMPOTENCY_KEYS + 1 }, async (_, i) => await keys.once(`k${i}`, publish)))
  t.equal(keys.size, MAX_IDEMPOTENCY_KEYS)
})
