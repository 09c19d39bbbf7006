import t from 'tap'
import type { AlertMessage } from '../../src/protocol/messages.js'
import { AlertList, soundOn } from '../../public/lib/alert-list.js'

function alert (seq: number, level: AlertMessage['level'] = 'warning'): AlertMessage {
  return { type: 'alert', seq, level, message: `alert ${seq}`, timestamp: new Date(Date.UTC(2026, 0, 1, 12, 0, seq)).toISOString(), data: {} }
}

t.test('keeps alerts newest first and counts them', async t => {
  const list = new AlertList()
  t.ok(list.add(alert(1)))
  t.ok(list.add(alert(2, 'critical')))
  t.same(list.alerts.map(a => a.seq), [2, 1])
  t.equal(list.count, 2)
})

t.test('a replayed alert (same seq) is not added twice', async t => {
  const list = new AlertList()
  list.add(alert(1))
  t.notOk(list.add(alert(1)))
  t.equal(list.count, 1)
})

t.test('dismissing removes one alert, and its replay does not bring it back', async t => {
  const list = new AlertList()
  list.add(alert(1))
  list.add(alert(2))
  t.ok(list.dismiss(1))
  t.notOk(list.dismiss(1), 'already gone')
  t.same(list.alerts.map(a => a.seq), [2])
  t.notOk(list.add(alert(1)), 'a dismissed alert replayed stays dismissed')
  t.equal(list.count, 1)
})

t.test('dismiss all empties the list and clears the dropped note', async t => {
  const list = new AlertList(2)
  for (let seq = 1; seq <= 3; seq++) list.add(alert(seq))
  t.equal(list.dropped, 1)
  list.dismissAll()
  t.equal(list.count, 0)
  t.equal(list.dropped, 0)
  t.notOk(list.add(alert(3)), 'still seen')
})

t.test('bounded: the oldest are dropped and counted', async t => {
  const list = new AlertList(3)
  for (let seq = 1; seq <= 5; seq++) list.add(alert(seq))
  t.same(list.alerts.map(a => a.seq), [5, 4, 3])
  t.equal(list.dropped, 2)
})

t.test('the remembered seqs are bounded too; the oldest are forgotten first', async t => {
  const list = new AlertList(2, 3)
  for (let seq = 1; seq <= 4; seq++) list.add(alert(seq))
  list.dismissAll()
  t.ok(list.add(alert(1)), 'seq 1 was forgotten')
  t.notOk(list.add(alert(4)), 'seq 4 is still remembered')
})

t.test('the sound is off unless it was turned on', async t => {
  t.equal(soundOn(null), false)
  t.equal(soundOn('off'), false)
  t.equal(soundOn('garbage'), false)
  t.equal(soundOn('on'), true)
})
