import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { cpuMs, rssBytes } from '../../bench/process-stats.js'

// The benchmark bills each handshake's CPU to the processes that spent it
// from these readings, so they must follow a real process's work.
t.test('cpuMs follows the CPU a process spends, and is 0 once it is gone', async t => {
  // A child that spins until told to stop, so its CPU time grows while we watch.
  const child = spawn(process.execPath, ['-e', `
    process.stdout.write('ready\\n')
    const until = Date.now() + 30000
    let stop = false
    process.stdin.on('data', () => { stop = true })
    const spin = () => { const end = Date.now() + 20; while (Date.now() < end); if (!stop && Date.now() < until) setImmediate(spin); else process.exit(0) }
    spin()
  `], { stdio: ['pipe', 'pipe', 'inherit'] })
  await once(child.stdout!, 'data')
  const pid = child.pid!
  const first = cpuMs(pid)
  t.ok(rssBytes(pid) > 1024 * 1024, 'the child has a resident size')
  // Wait for the child's CPU time to move by at least 200 ms: it only can if the reading is real.
  let now = first
  while (now - first < 200) {
    await new Promise(resolve => setImmediate(resolve))
    now = cpuMs(pid)
  }
  t.ok(now >= first + 200, `CPU time grew while the child spun (${first} → ${now} ms)`)
  child.stdin!.write('stop\n')
  await once(child, 'exit')
  t.equal(cpuMs(pid), 0, 'a process that has exited reads as 0')
})
