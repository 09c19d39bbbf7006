import t from 'tap'
import { ratiosText, summarize, type Burst } from '../../bench/handshake-pairs.js'

const burst = (handshakesPerSec: number, opened = 15_000): Burst => ({ opened, failed: 0, handshakesPerSec, serviceCpuUs: 100, clientCpuUs: 100 })

// --handshake-pairs reports these ratios as the cluster's handshake capacity
// against one process's; a wrong pairing or average would misreport it.
t.test('each pair is the cluster burst over the service burst of the same pair', async t => {
  const summary = summarize([burst(1000), burst(2000), burst(4000)], [burst(800), burst(2000), burst(3000)])
  t.same(summary.pairs, [0.8, 1, 0.75])
  // Three pairs make one ABBA run of four bursts; the third pair is left out of the runs.
  t.equal(summary.abba.length, 1)
})

t.test('an ABBA run weighs each burst by the time it took, not by its rate', async t => {
  // Service: 15,000 at 1,000/s (15 s) and 15,000 at 3,000/s (5 s): 30,000 in 20 s = 1,500/s
  // (the mean of the rates would say 2,000/s). Cluster: 15,000 at 1,500/s twice = 1,500/s.
  const summary = summarize([burst(1000), burst(3000)], [burst(1500), burst(1500)])
  t.equal(summary.abba.length, 1)
  t.ok(Math.abs(summary.abba[0] - 1) < 1e-9, `ABBA ratio ${summary.abba[0]} is 1`)
  t.same(summary.pairs, [1.5, 0.5])
})

t.test('pairs are only counted where both bursts were measured', async t => {
  const summary = summarize([burst(1000), burst(1000)], [burst(900)])
  t.same(summary.pairs, [0.9])
  t.same(summary.abba, [])
})

t.test('the text gives every ratio, the median and the lowest', async t => {
  t.equal(ratiosText([0.84, 0.91, 0.88]), '0.84, 0.91, 0.88 (median 0.88, lowest 0.84)')
  t.equal(ratiosText([]), 'none')
})
