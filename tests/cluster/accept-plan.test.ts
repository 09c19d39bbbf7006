import t from 'tap'
import { MIN_SLACK, planAccepting, type WorkerLoad } from '../../src/cluster/accept-plan.js'

const loads = (...entries: Array<[number, number, boolean]>): Map<number, WorkerLoad> =>
  new Map(entries.map(([id, held, accepting]) => [id, { held, accepting }]))

t.test('even workers all keep accepting', async t => {
  t.same(planAccepting(loads([1, 5000, true], [2, 5100, true], [3, 4900, true]), 18_000), { stop: [], resume: [] })
})

t.test('a worker more than the slack ahead of the least loaded stops; within half of it, it resumes', async t => {
  // Mean 5,000: the slack is 10% of it, 500.
  t.same(planAccepting(loads([1, 4800, true], [2, 5200, true]), 18_000), { stop: [], resume: [] }, '400 apart, within 4800 + 500')
  t.same(planAccepting(loads([1, 4700, true], [2, 5200, true], [3, 5100, true]), 18_000).stop, [], 'at the edge (4700 + 500) stays')
  t.same(planAccepting(loads([1, 4700, true], [2, 5201, true], [3, 5099, true]), 18_000).stop, [2], 'one past it stops')
  t.same(planAccepting(loads([1, 4500, true], [2, 5501, true]), 18_000), { stop: [2], resume: [] }, '1,001 apart: the one ahead stops')
  t.same(planAccepting(loads([1, 4900, true], [2, 5200, false]), 18_000), { stop: [], resume: [] }, 'stopped and still 300 ahead (more than half the slack): stays stopped')
  t.same(planAccepting(loads([1, 4900, true], [2, 5100, false]), 18_000), { stop: [], resume: [2] }, 'within half the slack: resumes')
})

t.test('small counts use the minimum slack', async t => {
  t.same(planAccepting(loads([1, 0, true], [2, MIN_SLACK, true]), 18_000).stop, [])
  t.same(planAccepting(loads([1, 0, true], [2, MIN_SLACK + 1, true]), 18_000).stop, [2])
})

t.test('a full worker stops while another has room, whatever the slack', async t => {
  t.same(planAccepting(loads([1, 100, true], [2, 99, true]), 100), { stop: [1], resume: [] })
  t.same(planAccepting(loads([1, 100, false], [2, 99, true]), 100), { stop: [], resume: [] }, 'and stays stopped while full')
})

t.test('when every worker is full, all accept: a handshake gets a quick 503 instead of waiting in the queue', async t => {
  t.same(planAccepting(loads([1, 100, false], [2, 100, true]), 100), { stop: [], resume: [1] })
})

t.test('the last worker that listens never stops: the port would close with it', async t => {
  // Worker 2 stopped; worker 1 is now the one ahead (counts moved on) but it is the only listener.
  const plan = planAccepting(loads([1, 2000, true], [2, 1000, false]), 18_000)
  t.same(plan, { stop: [], resume: [2] }, 'the stopped one is asked back; the listener stays until it has')
  t.same(planAccepting(loads([1, 2000, true], [2, 1000, true]), 18_000), { stop: [1], resume: [] }, 'then the one ahead may stop')
  // Two listeners that would both stop (both full, a third stopped with room): the least loaded stays.
  t.same(planAccepting(loads([1, 100, true], [2, 100, true], [3, 50, false]), 100), { stop: [2], resume: [3] }, 'one of the two full ones stays until 3 listens')
})

t.test('workers in the middle of a command count for the decision to stop nobody, not as listeners', async t => {
  t.same(planAccepting(loads([1, 2000, true]), 18_000, 1), { stop: [], resume: [] }, 'a lone settled listener stays')
  t.same(planAccepting(loads([1, 2000, false]), 18_000, 1), { stop: [], resume: [1] }, 'a lone settled stopped worker is asked back')
  t.same(planAccepting(loads([1, 0, false]), 18_000, 0), { stop: [], resume: [1] }, 'one worker alone always accepts')
})
