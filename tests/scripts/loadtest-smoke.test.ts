import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { connect, startServer, TEST_SECRET, waitFor } from '../helper.js'

const run = promisify(execFile)

t.test('the load-test script opens, measures and reports a small run', async t => {
  const server = await startServer(t)
  const out = join(mkdtempSync(join(tmpdir(), 'loadtest-')), 'report.json')
  const { stdout } = await run(process.execPath, [
    '--import', 'tsx', 'scripts/loadtest.ts',
    '--url', server.wsUrl, '--connections', '30', '--ramp', '100', '--duration', '2',
    '--publish-rate', '5', '--secret', TEST_SECRET, '--out', out
  ], { timeout: 60_000 })
  t.match(stdout, /connections opened \/ failed\s+30 \/ 0/)
  t.match(stdout, /^loadtest: PASS$/m, 'a clean run passes (and execFile saw exit code 0)')
  t.notMatch(stdout, /hint:/)
  t.match(stdout, /delivery ms p50/)
  const report = JSON.parse(readFileSync(out, 'utf8'))
  t.equal(report.opened, 30)
  t.equal(report.failed, 0)
  t.ok(report.published > 0, 'it published its own events')
  t.equal(report.publishFailures, 0)
  t.equal(report.deliveryMs.count, report.published * 30, 'every socket got every event it published')
  t.same([report.deliveries, report.expectedDeliveries, report.undelivered], [report.published * 30, report.published * 30, 0], 'and the run waited for them')
  t.equal(report.missingEvents, 0)
  t.equal(report.statusBefore.total_connections, 0)
  t.same(report.verdict, { pass: true, problems: [], hints: [] })
  await waitFor(() => server.app.hub.size === 0, 'the sockets to close')
  t.pass('it closed its sockets')
})

t.test('it refuses a target that is not this machine', async t => {
  const failed = await run(process.execPath, ['--import', 'tsx', 'scripts/loadtest.ts', '--url', 'ws://192.0.2.1:8000/api/ws/statistics'], { timeout: 30_000 })
    .then(() => null, (err: { code: number, stderr: string }) => err)
  t.equal(failed?.code, 2)
  t.match(failed?.stderr, /only this machine/)
})

interface Failed { code: number, stdout: string, stderr: string }

/** Runs the load test, expecting it to fail; resolves with its exit code and output. */
async function runFailing (t: Test, args: string[]): Promise<Failed> {
  const failed = await run(process.execPath, ['--import', 'tsx', 'scripts/loadtest.ts', ...args], { timeout: 60_000 })
    .then(() => null, (err: Failed) => err)
  if (failed === null) throw new Error('the load test passed')
  t.notMatch(failed.stderr, /\n\s+at /, 'no stack trace')
  return failed
}

t.test('connections refused by the connect rate limit fail the run and name the setting to raise', async t => {
  const server = await startServer(t, { WS_CONNECT_RATE_LIMIT: 4 })
  const failed = await runFailing(t, ['--url', server.wsUrl, '--connections', '10', '--ramp', '100', '--duration', '1', '--publish-rate', '2', '--secret', TEST_SECRET])
  t.equal(failed.code, 1)
  t.match(failed.stdout, /connections opened \/ failed\s+4 \/ 6 \(HTTP 429 PUSH_RATE_LIMITED: 6\)/)
  t.match(failed.stdout, /hint: 6 × HTTP 429 at the handshake: .*raise WS_CONNECT_RATE_LIMIT_PER_MINUTE \(formerly WS_CONNECT_RATE_LIMIT\) to at least 10/)
  t.match(failed.stdout, /^loadtest: FAIL \(6 connections failed or were closed by the service \(--max-failed 0\)\)$/m)
  await waitFor(() => server.app.hub.size === 0, 'the sockets to close')
})

t.test('--max-failed lets a run with that many refusals pass', async t => {
  const server = await startServer(t, { WS_CONNECT_RATE_LIMIT: 4 })
  const { stdout } = await run(process.execPath, [
    '--import', 'tsx', 'scripts/loadtest.ts',
    '--url', server.wsUrl, '--connections', '6', '--ramp', '100', '--duration', '1', '--publish-rate', '2', '--secret', TEST_SECRET, '--max-failed', '2'
  ], { timeout: 60_000 })
  t.match(stdout, /connections opened \/ failed\s+4 \/ 2/)
  t.match(stdout, /hint: 2 × HTTP 429 at the handshake/, 'the hint is still printed')
  t.match(stdout, /^loadtest: PASS$/m)
})

t.test('a service at MAX_SOCKETS: the run fails and says to raise MAX_SOCKETS', async t => {
  const server = await startServer(t, { MAX_SOCKETS: 3 })
  const failed = await runFailing(t, ['--url', server.wsUrl, '--connections', '5', '--ramp', '100', '--duration', '1', '--publish-rate', '0', '--secret', TEST_SECRET])
  t.equal(failed.code, 1)
  t.match(failed.stdout, /HTTP 503 PUSH_AT_CAPACITY: 2/)
  t.match(failed.stdout, /hint: 2 × HTTP 503 PUSH_AT_CAPACITY: the service holds MAX_SOCKETS WebSockets; raise MAX_SOCKETS/)
})

t.test('when no connection opens it fails at once instead of waiting out --duration', async t => {
  // The one socket this service holds is taken; every handshake of the run gets 503.
  const server = await startServer(t, { MAX_SOCKETS: 1 })
  await connect(server, t)
  const failed = await runFailing(t, ['--url', server.wsUrl, '--connections', '3', '--ramp', '100', '--duration', '3600', '--secret', TEST_SECRET, '--max-failed', '10'])
  t.equal(failed.code, 1)
  t.match(failed.stdout, /loadtest: FAIL \(no connection opened of 3\)/)
})

t.test('publishes refused by the HTTP rate limit fail the run and name HTTP_RATE_LIMIT_PER_MINUTE', async t => {
  // One request for the status before the run, two publishes; the rest are 429.
  const server = await startServer(t, { RATE_LIMIT_MAX: 3 })
  const failed = await runFailing(t, ['--url', server.wsUrl, '--connections', '2', '--ramp', '100', '--duration', '1', '--publish-rate', '10', '--secret', TEST_SECRET])
  t.equal(failed.code, 1)
  t.match(failed.stdout, /hint: \d+ × publishing got HTTP 429: .*raise HTTP_RATE_LIMIT_PER_MINUTE \(formerly RATE_LIMIT_MAX\)/)
  t.match(failed.stdout, /^loadtest: FAIL \(\d+ events failed to publish \(--max-publish-failures 0\)\)$/m)
})
