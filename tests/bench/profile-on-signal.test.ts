import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

// `npm run bench -- --connect-prof` brackets the measured connect phase with
// two SIGWINCHs to every target process; what lies between them must be
// what the profile holds, and nothing is written before the second.
t.test('the first SIGWINCH starts the CPU profiler, the second writes the profile of what ran in between', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'connect-prof-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const child = spawn(process.execPath, ['--import', join(import.meta.dirname, '../../bench/targets/profile-on-signal.mjs'), '-e', `
    function busyBetweenSignals () { const end = Date.now() + 5; while (Date.now() < end); }
    process.stdin.on('data', (line) => {
      if (String(line).startsWith('spin')) { for (let i = 0; i < 20; i++) busyBetweenSignals() }
      process.stdout.write('done\\n')
    })
    process.stdout.write('ready\\n')
  `], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, BENCH_PROFILE_DIR: dir } })
  t.teardown(() => { child.kill() })
  const lines = child.stdout!
  await once(lines, 'data')
  const ask = async (what: string): Promise<void> => {
    const answered = once(lines, 'data')
    child.stdin!.write(what + '\n')
    await answered
  }
  child.kill('SIGWINCH')
  // Two round trips: the signal, sent before either, has been handled by then.
  await ask('ping')
  await ask('ping')
  t.same(readdirSync(dir), [], 'nothing is written while the profiler runs')
  await ask('spin')
  child.kill('SIGWINCH')
  const file = join(dir, `connect-${child.pid}.cpuprofile`)
  for (let i = 0; i < 200 && !existsSync(file); i++) await ask('ping')
  t.ok(existsSync(file), 'the profile is written after the second signal')
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Array<{ callFrame: { functionName: string } }>, samples: number[] }
  t.ok(profile.samples.length > 0, 'it holds samples')
  t.ok(profile.nodes.some(node => node.callFrame.functionName === 'busyBetweenSignals'), 'including the work done between the signals')
})
