import t from 'tap'
import { judge, type Outcome } from '../../scripts/loadtest/verdict.js'

const clean: Outcome = {
  connections: 1000,
  workers: 2,
  workersReported: 2,
  opened: 1000,
  failed: 0,
  failuresByCloseCode: {},
  closesDuringRunByCode: {},
  missingEvents: 0,
  undelivered: 0,
  publishFailures: 0,
  publishFailuresByStatus: {}
}
const thresholds = { maxFailed: 0, maxGaps: 0, maxPublishFailures: 0 }

t.test('a run in which every worker reported and nothing failed passes', async t => {
  t.same(judge(clean, thresholds), { pass: true, problems: [], hints: [] })
})

t.test('a worker that did not report fails the run: its sockets were never counted', async t => {
  const verdict = judge({ ...clean, workersReported: 1, opened: 500 }, thresholds)
  t.equal(verdict.pass, false)
  t.match(verdict.problems, [/1 of 2 load-test worker processes did not report.*lower --connections or --ramp/])
})

t.test('refusals at the handshake get a hint that names what to change', async t => {
  const verdict = judge({ ...clean, opened: 997, failed: 3, failuresByCloseCode: { 1013: 2, 'still connecting at the end': 1 } }, thresholds)
  t.equal(verdict.pass, false)
  t.match(verdict.hints, [/^2 × closed 1013 at the handshake .*REDIS_ACQUIRE_TIMEOUT_MS/, /^1 × still connecting when the run ended/])
})

t.test('deliveries that never arrived fail the run like sequence gaps', async t => {
  const verdict = judge({ ...clean, undelivered: 3 }, thresholds)
  t.equal(verdict.pass, false)
  t.match(verdict.problems, [/^3 deliveries of the run's events had not arrived when the run stopped/])
  t.equal(judge({ ...clean, undelivered: 3 }, { ...thresholds, maxGaps: 3 }).pass, true, 'within --max-gaps')
})
