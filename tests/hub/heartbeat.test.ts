import t, { type Test } from 'tap'
import { ConnectionHub, type Connection, type Member } from '../../src/hub/connection-hub.js'
import { startHeartbeat } from '../../src/hub/heartbeat.js'

/**
 * The heartbeat against the hub alone (the hub knows nothing of ws): each
 * connection's ping is recorded, and a live peer's pong is its member's
 * `alive` set again, as the session does on a real pong.
 */
class PingedConnection implements Connection {
  readonly userId = 'u'
  bufferedAmount = 0
  terminated = false
  member: Member | null = null
  constructor (readonly id: string, readonly answers: boolean, readonly pinged: (id: string) => void) {}
  send (): void {}
  close (): void {}
  terminate (): void { this.terminated = true }
  ping (): void {
    this.pinged(this.id)
    if (this.answers && this.member !== null) queueMicrotask(() => { this.member!.alive = true })
  }
}

/**
 * The pings of each tick, as groups: a tick pings synchronously, so the
 * pings before the next microtask checkpoint are one tick's.
 */
function recordTicks (t: Test): { pinged: (id: string) => void, ticks: string[][], next: (count: number) => Promise<void> } {
  // The heartbeat's timer does not keep a process alive; this does, while the test waits.
  const hold = setInterval(() => {}, 60_000)
  t.teardown(() => { clearInterval(hold) })
  const ticks: string[][] = []
  let current: string[] | null = null
  let wake: (() => void) | null = null
  const pinged = (id: string): void => {
    if (current === null) {
      const tick: string[] = current = []
      queueMicrotask(() => {
        ticks.push(tick)
        current = null
        wake?.()
      })
    }
    current.push(id)
  }
  const next = async (count: number): Promise<void> => {
    while (ticks.length < count) await new Promise<void>(resolve => { wake = resolve })
  }
  return { pinged, ticks, next }
}

t.test('the pings of one interval are spread over its ticks, each member pinged once per interval', async t => {
  const hub = new ConnectionHub()
  const { pinged, ticks, next } = recordTicks(t)
  for (let i = 0; i < 40; i++) {
    const connection = new PingedConnection(`c${i}`, true, pinged)
    connection.member = hub.add(connection)
  }
  // 4 turns per interval: 400 ms cut into ticks of 100 ms.
  const stop = startHeartbeat(hub, 400, undefined, 100)
  t.teardown(stop)
  await next(8)
  const round = ticks.slice(0, 4)
  t.same(round.map(tick => tick.length), [10, 10, 10, 10], 'each tick pings a quarter of the members')
  t.same(round.flat().sort(), [...hub.members()].map(m => m.connection.id).sort(), 'and one interval pings every member once')
  t.same(ticks.slice(4, 8), round, 'the next interval pings them again, in the same turns')
})

t.test('a member that did not answer its ping is terminated at its next turn, the others stay', async t => {
  const hub = new ConnectionHub()
  const { pinged, ticks, next } = recordTicks(t)
  const connections: PingedConnection[] = []
  for (let i = 0; i < 6; i++) {
    const connection = new PingedConnection(`c${i}`, i !== 4, pinged)
    connection.member = hub.add(connection)
    connections.push(connection)
  }
  const dead: string[] = []
  const stop = startHeartbeat(hub, 300, id => { dead.push(id) }, 100)
  t.teardown(stop)
  // Two intervals: every member had its ping and its next turn.
  await next(6)
  t.same(dead, ['c4'], 'only the silent member was reported dead')
  t.same(connections.map(c => c.terminated), [false, false, false, false, true, false], 'and only it was terminated')
  t.equal(ticks.flat().filter(id => id === 'c4').length, 1, 'it was pinged once, then terminated instead of pinged again')
})

t.test('a heartbeat shorter than a tick pings every member on every tick', async t => {
  const hub = new ConnectionHub()
  const { pinged, ticks, next } = recordTicks(t)
  for (let i = 0; i < 5; i++) {
    const connection = new PingedConnection(`c${i}`, true, pinged)
    connection.member = hub.add(connection)
  }
  const stop = startHeartbeat(hub, 50, undefined, 1000)
  t.teardown(stop)
  await next(2)
  t.same(ticks.slice(0, 2).map(tick => tick.length), [5, 5])
})
