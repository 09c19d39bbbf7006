// Preloaded into every benchmark target with --connect-prof: the first
// SIGWINCH starts V8's CPU profiler in this process, the next one writes the
// profile to $BENCH_PROFILE_DIR/connect-<pid>.cpuprofile. The runner sends
// them around the measured connect phase only, so the profile shows what a
// handshake costs without start-up, warm-up and fan-out mixed in (which is
// all --cpu-prof can give). Open the files in Chrome DevTools.
import { Session } from 'node:inspector'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dir = process.env.BENCH_PROFILE_DIR
let session = null
if (dir !== undefined) {
  process.on('SIGWINCH', () => {
    if (session === null) {
      session = new Session()
      session.connect()
      session.post('Profiler.enable', () => {
        session?.post('Profiler.setSamplingInterval', { interval: 200 }, () => { session?.post('Profiler.start') })
      })
      return
    }
    const stopping = session
    session = null
    stopping.post('Profiler.stop', (err, result) => {
      if (err === null && result !== undefined) {
        mkdirSync(dir, { recursive: true })
        writeFileSync(join(dir, `connect-${process.pid}.cpuprofile`), JSON.stringify(result.profile))
      }
      stopping.disconnect()
    })
  })
}
