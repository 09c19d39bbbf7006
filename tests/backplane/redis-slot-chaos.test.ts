import { setTimeout as backoff } from 'node:timers/promises'
import t from 'tap'
import { Client, connect, token, type Server } from '../helper.js'
import { eventually, NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

const LEASE_MS = 4000
const LIMIT = 5
const USERS = Array.from({ length: 8 }, (_, i) => `chaos-${i}`)
/** Handshakes made at once: bounded, loopback only. */
const WAVE = 25
/** Keyed camera events published through the chaos, in batches of BATCH: bounded. */
const EVENTS = 40
const BATCH = 10
/** Tries per key before the test gives up on it. */
const MAX_ATTEMPTS = 150
const CAMERA = 'chaos-cam'

type Test = { teardown (fn: () => unknown): void }

/** A handshake and how it ended: admitted (and maybe still open) or refused with a close code. */
class Attempt {
  readonly user: string
  readonly client: Client
  readonly outcome: Promise<string>

  constructor (server: Server, user: string, t: Test) {
    this.user = user
    this.client = new Client(`${server.wsUrl}?token=${token(user)}`)
    t.teardown(() => { this.client.ws.terminate() })
    this.outcome = Promise.race([
      this.client.next(message => message.type === 'connection_status').then(() => 'connected', () => 'closed'),
      this.client.closed.then(({ code }) => String(code))
    ])
  }

  get open (): boolean {
    return this.client.ws.readyState === this.client.ws.OPEN
  }

  async close (): Promise<void> {
    this.client.ws.close()
    await this.client.closed
  }
}

/** What one keyed event came to: the seq its 202 answered, and how it got there. */
interface Published { key: string, n: number, seq: number, attempts: number }

/**
 * A producer that does what the 503s tell it: each event has its own
 * Idempotency-Key and is retried with that same key (alternating between
 * the instances) until it gets a 202. Counts the answers on the way.
 */
class Publisher {
  readonly published: Published[] = []
  readonly tally = { unconfirmed: 0, unavailable: 0, replayed: 0, failed: 0 }
  readonly #instances: Server[]
  readonly #prefix: string
  readonly #pending: Array<Promise<void>> = []
  #n = 0

  constructor (instances: Server[], prefix: string) {
    this.#instances = instances
    this.#prefix = prefix
  }

  /** Starts publishing `count` new events; each retries on its own. */
  start (count: number): void {
    for (let i = 0; i < count; i++) this.#pending.push(this.#publish(this.#n++).then(published => { this.published.push(published) }))
  }

  /** Waits for every event started so far to be answered with a 202. */
  async done (): Promise<Published[]> {
    await Promise.all(this.#pending)
    return this.published
  }

  async #publish (n: number): Promise<Published> {
    const key = `${this.#prefix}-${n}`
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const server = this.#instances[(n + attempt) % this.#instances.length]
      const response = await fetch(`${server.url}/api/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token('chaos-publisher', { roles: ['publisher'] })}`,
          'idempotency-key': key
        },
        body: JSON.stringify({ camera_id: CAMERA, event_type: 'motion', data: { key, n } })
      }).catch(() => null)
      const body = await response?.json().catch(() => null) as { seq?: number, code?: string } | null
      if (response?.status === 202 && typeof body?.seq === 'number') {
        if (response.headers.get('idempotent-replayed') === 'true') this.tally.replayed++
        return { key, n, seq: body.seq, attempts: attempt }
      }
      if (response?.status === 503 && body?.code === 'PUSH_PUBLISH_UNCONFIRMED') this.tally.unconfirmed++
      else if (response?.status === 503 && body?.code === 'PUSH_BUS_UNAVAILABLE') this.tally.unavailable++
      else if (response === null) this.tally.failed++
      else throw new Error(`${key}: unexpected answer ${response.status} ${JSON.stringify(body)}`)
      // Not an assertion: a producer's pause before it retries.
      await backoff(Math.min(20 * attempt, 200))
    }
    throw new Error(`${key}: no 202 after ${MAX_ATTEMPTS} tries`)
  }
}

/**
 * A dashboard that keeps every camera event it was sent, over all its
 * connections: when it is cut off it comes back with ?last_seq= of the
 * last event it got, as a client should.
 */
class Listener {
  readonly user: string
  readonly server: Server
  readonly connections: Client[] = []
  /** How each connection but the last ended, and how each resume was answered. */
  readonly history: string[] = []
  readonly #t: Test

  private constructor (server: Server, user: string, t: Test) {
    this.server = server
    this.user = user
    this.#t = t
  }

  static async open (server: Server, user: string, t: Test): Promise<Listener> {
    const listener = new Listener(server, user, t)
    const client = await connect(server, t, user)
    await client.roundTrip() // a first message: live events flow at once, without the resume grace
    listener.connections.push(client)
    return listener
  }

  get client (): Client {
    return this.connections[this.connections.length - 1]
  }

  get open (): boolean {
    return this.client.ws.readyState === this.client.ws.OPEN
  }

  /** Every camera event received, over all connections, in the order received. */
  get events (): Array<Record<string, unknown>> {
    return this.connections.flatMap(client => client.messages.filter(message => message.type === 'camera_event'))
  }

  get lastSeq (): number {
    return Math.max(0, ...this.events.map(event => event.seq as number))
  }

  /** Cuts the connection without a close handshake, as a network drop would. */
  async drop (): Promise<void> {
    this.client.ws.terminate()
    await this.client.closed
  }

  /**
   * Reconnects with ?last_seq= until resumed; a handshake refused while
   * Redis is still coming back (1013) is tried again, as a client would.
   */
  async resume (): Promise<void> {
    const { code } = await this.client.closed
    this.history.push(`closed ${code}`)
    for (let attempt = 1; attempt <= 50; attempt++) {
      const client = new Client(`${this.server.wsUrl}?token=${token(this.user)}&last_seq=${this.lastSeq}`)
      this.#t.teardown(() => { client.ws.terminate() })
      this.connections.push(client)
      const status = await client.next(message => message.type === 'connection_status' && message.status !== 'connected')
        .then(message => message.status === 'resumed' ? `resumed, ${String(message.replayed)} replayed` : String(message.status), async () => `closed ${(await client.closed).code}`)
      this.history.push(status)
      if (status !== 'closed 1013') return
      await backoff(Math.min(20 * attempt, 200)) // not an assertion: a client's pause before it reconnects
    }
  }
}

async function adminStatus (server: Server): Promise<{ total_connections: number, total_users: number, users: Record<string, number>, instances: Record<string, number>, stale: boolean }> {
  const response = await fetch(`${server.url}/api/ws/status`, { headers: { authorization: `Bearer ${token('root', { roles: ['admin'] })}` } })
  return await response.json() as never
}

t.test('Redis restarting and stalling during handshakes, closes and keyed publishes leaves exact counts, no leaked slot and no duplicate', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const settings = { INSTANCE_LEASE_MS: LEASE_MS, RATE_LIMIT_MAX: 0, WS_CONNECT_RATE_LIMIT: 0, MAX_CONNECTIONS_PER_USER: LIMIT }
  const instances = [await startInstance(t, redis, settings), await startInstance(t, redis, settings)]
  // Two dashboards on each instance, connected before the chaos; one of each
  // pair is cut off during the stall and resumes with last_seq afterwards.
  const listeners = await Promise.all(Array.from({ length: 4 }, async (_, i) => await Listener.open(instances[i % 2], `chaos-listener-${i}`, t)))
  const publisher = new Publisher(instances, 'chaos-event')
  const attempts: Attempt[] = []
  let n = 0
  const wave = async (size: number): Promise<Attempt[]> => {
    const made = Array.from({ length: size }, () => {
      const i = n++
      return new Attempt(instances[i % 2], USERS[i % USERS.length], t)
    })
    attempts.push(...made)
    await Promise.all(made.map(async attempt => await attempt.outcome))
    return made
  }
  const closeSome = async (share: number): Promise<void> => {
    const open = attempts.filter(attempt => attempt.open)
    await Promise.all(open.slice(0, Math.ceil(open.length * share)).map(async attempt => { await attempt.close() }))
  }

  // Before: every user holds a few connections on both instances.
  await wave(USERS.length * 3)
  t.equal(attempts.filter(attempt => attempt.open).length, USERS.length * 3, 'all admitted while Redis is fine')

  // A restart that loses every key in the middle of handshakes and closes.
  publisher.start(BATCH)
  await Promise.all([wave(WAVE), closeSome(0.2), redis.restart()])
  publisher.start(BATCH)
  await Promise.all([wave(WAVE), closeSome(0.2)])

  // A stall: handshakes in waves, closes in between, until 200 handshakes were made.
  // Publishes sent right after the stop reach Redis and run when it goes on,
  // after their callers were told the outcome is unknown.
  redis.pause()
  t.teardown(() => { redis.resume() })
  publisher.start(BATCH)
  const stalled: Attempt[] = []
  for (let made = 0; made < 200; made += WAVE) {
    const [attemptsOfWave] = await Promise.all([wave(WAVE), closeSome(0.15)])
    stalled.push(...attemptsOfWave)
    if (made === 0) await Promise.all([listeners[2].drop(), listeners[3].drop()])
    if (made === 3 * WAVE) publisher.start(EVENTS - 3 * BATCH)
  }
  t.ok(await Promise.all(stalled.map(async attempt => await attempt.outcome)).then(outcomes => outcomes.every(outcome => outcome === '1013')),
    'every handshake during the stall is refused with 1013')
  redis.resume()

  // Handshakes, closes and resumes as Redis comes back.
  const resumed = Promise.all([listeners[2].resume(), listeners[3].resume()])
  await Promise.all([wave(WAVE), closeSome(0.2)])
  await Promise.all([wave(WAVE), closeSome(0.2)])
  const published = await publisher.done()
  await resumed
  // Any other listener the chaos cut off resumes too (and its close is reported).
  await Promise.all(listeners.filter(listener => !listener.open).map(async listener => { await listener.resume() }))
  for (const listener of listeners) if (listener.history.length > 0) t.comment(`${listener.user}: ${listener.history.join(', ')}`)
  t.comment(`publishes: ${JSON.stringify(publisher.tally)}, tries per event up to ${Math.max(...published.map(p => p.attempts))}`)

  // Every keyed event reached every listener exactly once, with the seq its
  // publish was answered with. A marker published last is delivered after
  // everything before it (delivery is in seq order), so nothing is still on
  // its way when the events are counted.
  t.equal(published.length, EVENTS, `all ${EVENTS} events were answered 202`)
  t.ok(publisher.tally.unconfirmed > 0 && publisher.tally.replayed > 0,
    'some publishes went unconfirmed in the stall, and retrying them was answered as a replay')
  const marker = new Publisher(instances, 'chaos-marker')
  marker.start(1)
  const [{ seq: markerSeq }] = await marker.done()
  const expected = Object.fromEntries(published.map(({ key, seq }) => [key, [seq]]))
  for (const listener of listeners) {
    await listener.client.next(message => message.type === 'camera_event' && message.seq === markerSeq)
    const delivered: Record<string, number[]> = {}
    for (const event of listener.events) {
      if (event.seq === markerSeq) continue
      const key = (event.data as { key: string }).key
      ;(delivered[key] ??= []).push(event.seq as number)
    }
    t.same(delivered, expected, `${listener.user} got each of the ${EVENTS} keyed events once, with the seq its publish was answered`)
    const seqs = listener.events.map(event => event.seq as number)
    t.ok(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]), `${listener.user} got them in seq order`)
  }

  const live = (): Map<string, number> => {
    const counts = new Map<string, number>()
    for (const attempt of attempts) if (attempt.open) counts.set(attempt.user, (counts.get(attempt.user) ?? 0) + 1)
    for (const listener of listeners) if (listener.open) counts.set(listener.user, 1)
    return counts
  }
  const liveCounts = live()
  const expectedTotal = [...liveCounts.values()].reduce((sum, count) => sum + count, 0)
  t.ok([...liveCounts.values()].every(count => count <= LIMIT), 'no user ever had more than the limit open')

  // Within one lease, every count in Redis equals the live connections.
  let last: Awaited<ReturnType<typeof adminStatus>> | null = null
  await eventually(async () => {
    const [a, b] = await Promise.all(instances.map(adminStatus))
    last = a
    const users = new Map(Object.entries(a.users))
    return !a.stale && !b.stale &&
      a.total_connections === expectedTotal && b.total_connections === expectedTotal &&
      users.size === liveCounts.size && [...liveCounts].every(([user, count]) => users.get(user) === count)
  }, 'the counts to equal the live connections', LEASE_MS).catch(err => {
    t.comment(`expected ${expectedTotal} ${JSON.stringify(Object.fromEntries(liveCounts))}, got ${JSON.stringify(last)}`)
    throw err
  })
  const status = await adminStatus(instances[0])
  t.equal(status.total_connections, expectedTotal, 'total_connections equals the live connections')
  t.equal(status.total_users, liveCounts.size, 'total_users equals the users with a live connection')
  t.same(status.users, Object.fromEntries(liveCounts), 'each user\'s count equals their live connections')
  t.equal(Object.values(status.instances).reduce((sum, count) => sum + count, 0), expectedTotal, 'the instances add up')
  t.ok([...Object.values(status.users), ...Object.values(status.instances)].every(count => count >= 0), 'nothing is negative')

  // Every user can open exactly up to the limit again, and no more.
  for (const user of USERS) {
    const have = liveCounts.get(user) ?? 0
    const extra = await Promise.all(Array.from({ length: LIMIT - have }, (_, i) => new Attempt(instances[i % 2], user, t)).map(async attempt => await attempt.outcome))
    const over = new Attempt(instances[1], user, t)
    t.same({ extra, over: await over.outcome }, { extra: extra.map(() => 'connected'), over: '1008' }, `${user} can open ${LIMIT - have} more to reach ${LIMIT}, and no more`)
  }
})
