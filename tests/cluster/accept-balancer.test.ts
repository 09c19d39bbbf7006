import t from 'tap'
import { AcceptBalancer } from '../../src/cluster/accept-balancer.js'
import type { AcceptCommand, LoadReport } from '../../src/cluster/messages.js'

function balancer (capacity = 18_000): { balancer: AcceptBalancer, sent: Array<[number, AcceptCommand]> } {
  const sent: Array<[number, AcceptCommand]> = []
  return { balancer: new AcceptBalancer({ capacity, command: (id, command) => { sent.push([id, command]) } }), sent }
}
const report = (held: number, accepting: boolean, seq = 0): LoadReport => ({ push: 'accept-load', held, accepting, seq })

t.test('the worker ahead is asked to stop, with numbered commands, and back once the others catch up', async t => {
  const { balancer: b, sent } = balancer()
  b.report(1, report(100, true))
  b.report(2, report(500, true))
  t.same(sent, [[2, { push: 'accept', accept: false, seq: 1 }]])
  b.report(2, report(500, false, 1))
  b.report(1, report(480, true))
  t.same(sent.slice(1), [[2, { push: 'accept', accept: true, seq: 2 }]])
})

t.test('a report older than the last command is not trusted: a worker between close and listen does not count as listening', async t => {
  const { balancer: b, sent } = balancer()
  b.report(1, report(100, true))
  b.report(2, report(500, true))
  t.same(sent, [[2, { push: 'accept', accept: false, seq: 1 }]], '2 is asked to stop')
  b.report(2, report(500, false, 1))
  // 1 races ahead, 2 falls back: 2 is asked to resume…
  b.report(1, report(900, true))
  t.same(sent.at(-1), [2, { push: 'accept', accept: true, seq: 2 }])
  // …but a report 2 sent before it got that command still says seq 1. Were it
  // trusted as "listening", 1 could be stopped while 2 is not yet listening.
  b.report(2, report(500, true, 1))
  b.report(1, report(1500, true))
  t.equal(sent.length, 2, 'nothing is sent while 2 has not carried out its command')
  b.report(2, report(500, true, 2))
  t.same(sent.at(-1), [1, { push: 'accept', accept: false, seq: 1 }], 'once 2 listens, 1 may stop')
})

t.test('a worker that exited no longer counts: one that stopped for it is asked back at once', async t => {
  const { balancer: b, sent } = balancer()
  b.report(1, report(100, true))
  b.report(2, report(500, true))
  b.report(2, report(500, false, 1))
  t.equal(sent.length, 1)
  b.remove(1)
  t.same(sent.at(-1), [2, { push: 'accept', accept: true, seq: 2 }], 'alone, it accepts again, without waiting for its next report')
})
