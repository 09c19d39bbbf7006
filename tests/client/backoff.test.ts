import t from 'tap'
import fc from 'fast-check'
import { Backoff, backoffCeiling, fullJitter } from '../../src/client/backoff.js'

t.test('the ceiling doubles from 1 s and stops at 30 s', async t => {
  const ceilings = Array.from({ length: 8 }, (_, attempt) => backoffCeiling(attempt, 1000, 30_000))
  t.same(ceilings, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
  t.equal(backoffCeiling(10_000, 1000, 30_000), 30_000, 'a long outage never overflows')
})

t.test('full jitter: every delay lies in [0, ceiling) and never above 30 s', async t => {
  fc.assert(fc.property(
    fc.nat({ max: 100 }),
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    (attempt, r) => {
      const delay = fullJitter(attempt, 1000, 30_000, () => r)
      return Number.isInteger(delay) && delay >= 0 && delay < backoffCeiling(attempt, 1000, 30_000) && delay < 30_000
    }
  ))
  t.equal(fullJitter(3, 1000, 30_000, () => 0), 0, 'the low end is 0')
  t.equal(fullJitter(3, 1000, 30_000, () => 0.5), 4000, 'half of the 8 s ceiling')
})

t.test('delays spread out: different random draws give different delays', async t => {
  const delays = new Set(Array.from({ length: 50 }, () => fullJitter(5, 1000, 30_000)))
  t.ok(delays.size > 10, `50 draws gave ${delays.size} distinct delays`)
})

t.test('a Backoff grows per attempt and starts over after reset', async t => {
  const backoff = new Backoff({ baseMs: 1000, maxMs: 30_000, random: () => 0.999 })
  const delays = [backoff.next(), backoff.next(), backoff.next()]
  t.same(delays, [999, 1998, 3996])
  t.equal(backoff.attempt, 3)
  backoff.reset()
  t.equal(backoff.attempt, 0)
  t.equal(backoff.next(), 999)
})
