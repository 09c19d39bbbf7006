import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startServer, TEST_SECRET, waitFor } from '../helper.js'

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
  t.match(stdout, /delivery ms p50/)
  const report = JSON.parse(readFileSync(out, 'utf8'))
  t.equal(report.opened, 30)
  t.equal(report.failed, 0)
  t.ok(report.published > 0, 'it published its own events')
  t.equal(report.publishFailures, 0)
  t.equal(report.deliveryMs.count, report.published * 30, 'every socket got every event it published')
  t.equal(report.missingEvents, 0)
  t.equal(report.statusBefore.total_connections, 0)
  await waitFor(() => server.app.hub.size === 0, 'the sockets to close')
  t.pass('it closed its sockets')
})

t.test('it refuses a target that is not this machine', async t => {
  const failed = await run(process.execPath, ['--import', 'tsx', 'scripts/loadtest.ts', '--url', 'ws://192.0.2.1:8000/api/ws/statistics'], { timeout: 30_000 })
    .then(() => null, (err: { code: number, stderr: string }) => err)
  t.equal(failed?.code, 2)
  t.match(failed?.stderr, /only this machine/)
})
