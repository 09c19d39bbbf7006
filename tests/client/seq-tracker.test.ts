import t from 'tap'
import { SeqTracker } from '../../src/client/seq-tracker.js'

t.test('consecutive numbers are no gap; a jump reports the missing range', async t => {
  const tracker = new SeqTracker()
  t.equal(tracker.observe(5), null, 'the first number only starts tracking')
  t.equal(tracker.observe(6), null)
  t.same(tracker.observe(9), { from: 7, to: 8 })
  t.equal(tracker.last, 9)
})

t.test('duplicates are ignored; a lower number on a fresh connection restarts tracking', async t => {
  const tracker = new SeqTracker()
  tracker.observe(10)
  t.equal(tracker.observe(10), null)
  t.equal(tracker.last, 10, 'a duplicate does not move back')
  t.equal(tracker.observe(1, true), null, 'the service restarted its counter')
  t.equal(tracker.last, 1)
  t.same(tracker.observe(3), { from: 2, to: 2 })
})

t.test('resync starts over without reporting a gap', async t => {
  const tracker = new SeqTracker()
  tracker.observe(1)
  tracker.resync()
  t.equal(tracker.observe(50), null)
  t.same(tracker.observe(52), { from: 51, to: 51 })
})
