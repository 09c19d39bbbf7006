import { once } from 'node:events'
import { createServer, connect, type Server, type AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { AcceptGate } from '../../src/cluster/accept-gate.js'
import type { LoadReport } from '../../src/cluster/messages.js'
import { backlogOf, HAVE_SS } from '../listen-backlog.js'

/** A TCP server on a free loopback port, and a gate on it whose reports are collected. */
async function gated (t: Test, held = (): number => 0): Promise<{ server: Server, port: number, gate: AcceptGate, reports: LoadReport[], failures: unknown[], nextReport: () => Promise<LoadReport>, reportOf: (seq: number) => Promise<LoadReport> }> {
  const server = createServer(socket => { socket.on('error', () => {}); socket.destroy() })
  server.listen({ port: 0, host: '127.0.0.1' })
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  t.teardown(() => { server.close() })
  const reports: LoadReport[] = []
  const waiters: Array<(report: LoadReport) => void> = []
  const seqWaiters: Array<[number, (report: LoadReport) => void]> = []
  const failures: unknown[] = []
  const gate = new AcceptGate({
    server,
    listenOn: { host: '127.0.0.1', port, backlog: 77 },
    held,
    send: report => {
      reports.push(report)
      waiters.shift()?.(report)
      for (const [seq, resolve] of seqWaiters) if (seq === report.seq) resolve(report)
    },
    reportEveryMs: 60_000,
    failed: err => { failures.push(err) }
  })
  t.teardown(() => { gate.stop() })
  const nextReport = async (): Promise<LoadReport> => await new Promise(resolve => { waiters.push(resolve) })
  /** The first report that says command `seq` was carried out, sent already or still to come. */
  const reportOf = async (seq: number): Promise<LoadReport> => await new Promise(resolve => {
    const sent = reports.find(report => report.seq === seq)
    if (sent !== undefined) resolve(sent)
    else seqWaiters.push([seq, resolve])
  })
  return { server, port, gate, reports, failures, nextReport, reportOf }
}

/** 'open' when a TCP connection to the port is accepted, else the error code. */
async function dial (port: number): Promise<string> {
  const socket = connect({ port, host: '127.0.0.1' })
  return await new Promise(resolve => {
    socket.once('connect', () => { socket.destroy(); resolve('open') })
    socket.once('error', (err: NodeJS.ErrnoException) => { resolve(err.code ?? 'error') })
  })
}

t.test('the gate reports at start, stops and resumes listening on command, and reports each step with its number', async t => {
  let count = 7
  const { server, port, gate, reports, nextReport } = await gated(t, () => count)
  gate.start()
  t.same(reports, [{ push: 'accept-load', held: 7, accepting: true, seq: 0 }], 'a first report at once')

  const stopped = nextReport()
  gate.command(false, 1)
  t.same(await stopped, { push: 'accept-load', held: 7, accepting: false, seq: 1 })
  t.equal(server.listening, false, 'no longer listening')
  t.equal(await dial(port), 'ECONNREFUSED', 'outside a cluster the port is closed with it (in one, the other workers still hold it)')

  count = 3
  const resumed = nextReport()
  gate.command(true, 2)
  t.same(await resumed, { push: 'accept-load', held: 3, accepting: true, seq: 2 })
  t.equal(server.listening, true)
  t.equal((server.address() as AddressInfo).port, port, 'on the same port')
  if (HAVE_SS) t.equal(backlogOf(port), 77, 'with LISTEN_BACKLOG')
  t.equal(await dial(port), 'open')
})

t.test('an old or repeated command is ignored; commands that arrive during a listen are carried out in order', async t => {
  const { server, gate, reports, reportOf } = await gated(t)
  gate.start()
  gate.command(false, 1)
  gate.command(true, 1)
  t.equal(server.listening, false, 'the repeated number was ignored')
  // Resume then stop again at once: the listen is under way when the stop arrives.
  gate.command(true, 2)
  gate.command(false, 3)
  t.same(await reportOf(3), { push: 'accept-load', held: 0, accepting: false, seq: 3 })
  t.equal(server.listening, false)
  t.same(reports.map(r => [r.seq, r.accepting]), [[0, true], [1, false], [2, true], [3, false]])
})

t.test('a listen that fails is reported as carried out and not listening, and told to failed()', async t => {
  const { port, gate, reports, failures, nextReport } = await gated(t)
  gate.start()
  const stopped = nextReport()
  gate.command(false, 1)
  await stopped
  // Someone else takes the port meanwhile.
  const squatter = createServer()
  squatter.listen({ port, host: '127.0.0.1' })
  await once(squatter, 'listening')
  t.teardown(() => { squatter.close() })
  const after = nextReport()
  gate.command(true, 2)
  t.same(await after, { push: 'accept-load', held: 0, accepting: false, seq: 2 })
  t.match(failures, [{ code: 'EADDRINUSE' }], 'the error went to failed(), not to an unhandled error event')
  t.equal(reports.length, 3)
})

t.test('after stop() no command is carried out and nothing is reported', async t => {
  const { server, gate, reports } = await gated(t)
  gate.start()
  gate.stop()
  gate.command(false, 1)
  t.equal(server.listening, true)
  t.equal(reports.length, 1)
})
