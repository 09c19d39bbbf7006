import t from 'tap'
import fc from 'fast-check'
import type { Member } from '../../src/hub/connection-hub.js'
import { SUBSCRIBABLE_TYPES } from '../../src/protocol/messages.js'
import { Client, connect, startServer, type Server, type Test } from '../helper.js'

/**
 * Subscribe storms: random sequences of subscribe and unsubscribe messages
 * (camera lists with duplicates, ids at and over the length limit, null,
 * event types valid and not) over a few connections of one user, some sent
 * back to back before any answer. Checked against a model of a connection's
 * subscription computed here: every message gets the answer the model
 * predicts, the echo never lists more than MAX_CAMERA_IDS ids, the server's
 * state equals the model after every batch, and the connection is closed
 * only for a frame over MAX_INBOUND_MESSAGE_BYTES (1009).
 */

const MAX_CAMERA_IDS = 5
const MAX_INBOUND_MESSAGE_BYTES = 4096
const CONNECTIONS = 3
/** More cameras than the cap, so the cap is reached often. */
const POOL = ['cam-a', 'cam-b', 'cam-c', 'cam-d', 'cam-e', 'cam-f', 'cam-g', 'cam-h']
const PUSHED = new Set(['statistics_update', 'camera_event', 'alert'])

type Message = Record<string, unknown>

// ---- the model ---------------------------------------------------------------

interface Model { eventTypes: Set<string>, cameraIds: Set<string> | null }

const fresh = (): Model => ({ eventTypes: new Set(SUBSCRIBABLE_TYPES), cameraIds: null })

const isEventTypeList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length <= 10 && value.every(type => (SUBSCRIBABLE_TYPES as readonly unknown[]).includes(type))
const isCameraList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length <= 1000 && value.every(id => typeof id === 'string' && id.length >= 1 && id.length <= 128)

/** Whether the protocol's schema accepts the message (ids are ASCII here, so length is plain). */
function valid (message: Message): boolean {
  if (!Object.keys(message).every(key => ['type', 'event_types', 'camera_ids'].includes(key))) return false
  if (message.event_types !== undefined && !isEventTypeList(message.event_types)) return false
  const ids = message.camera_ids
  if (ids === undefined) return true
  if (ids === null) return message.type === 'subscribe'
  return isCameraList(ids)
}

type Expected =
  | { kind: 'subscribed', eventTypes: string[], cameraIds: string[] | null }
  | { kind: 'error', code: 'invalid_message' | 'too_many_cameras' }

/** Applies a message to the model and says what the server must answer. */
function apply (model: Model, message: Message): Expected {
  if (!valid(message)) return { kind: 'error', code: 'invalid_message' }
  const types = (message.event_types ?? []) as string[]
  const ids = message.camera_ids as string[] | null | undefined
  if (message.type === 'subscribe') {
    if (Array.isArray(ids) && new Set([...(model.cameraIds ?? []), ...ids]).size > MAX_CAMERA_IDS) {
      return { kind: 'error', code: 'too_many_cameras' }
    }
    for (const type of types) model.eventTypes.add(type)
    if (ids === null) model.cameraIds = null
    else if (ids !== undefined) model.cameraIds = new Set([...(model.cameraIds ?? []), ...ids])
  } else {
    for (const type of types) model.eventTypes.delete(type)
    if (ids !== undefined && ids !== null && model.cameraIds !== null) for (const id of ids) model.cameraIds.delete(id)
  }
  return {
    kind: 'subscribed',
    eventTypes: SUBSCRIBABLE_TYPES.filter(type => model.eventTypes.has(type)),
    cameraIds: model.cameraIds === null ? null : [...model.cameraIds].sort()
  }
}

const wants = (model: Model, event: { type: string, camera_id?: string }): boolean =>
  model.eventTypes.has(event.type) && (event.type !== 'camera_event' || model.cameraIds === null || model.cameraIds.has(event.camera_id!))

// ---- the storm ------------------------------------------------------------------

// Mostly well-formed, so that storms build up subscriptions and reach the cap;
// now and then a message the schema refuses or a frame over the limit.
const cameraId: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...POOL), weight: 20 },
  // Around the 128-character limit.
  { arbitrary: fc.integer({ min: 126, max: 130 }).map(n => 'L'.repeat(n)), weight: 1 },
  { arbitrary: fc.string({ minLength: 0, maxLength: 12 }), weight: 1 },
  { arbitrary: fc.oneof(fc.integer(), fc.constant(null), fc.boolean()), weight: 1 }
)
const cameraIds: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.array(cameraId, { maxLength: 6 }), weight: 20 },
  { arbitrary: fc.constant(null), weight: 3 },
  // Around the 1000-item schema limit, near the frame limit.
  { arbitrary: fc.integer({ min: 999, max: 1001 }).map(n => Array.from({ length: n }, (_, i) => POOL[i % POOL.length].slice(4))), weight: 1 },
  // Long ids that make the frame larger than MAX_INBOUND_MESSAGE_BYTES.
  { arbitrary: fc.integer({ min: 28, max: 36 }).map(n => Array.from({ length: n }, (_, i) => `${i}`.padEnd(128, 'x'))), weight: 1 }
)
const eventTypes = fc.oneof(
  { arbitrary: fc.array(fc.constantFrom(...SUBSCRIBABLE_TYPES), { maxLength: 3 }), weight: 8 },
  { arbitrary: fc.array(fc.constantFrom('camera_event', 'alert', 'statistics_update', 'bogus'), { maxLength: 12 }), weight: 1 }
)
const message: fc.Arbitrary<Message> = fc.tuple(
  fc.record({ type: fc.constantFrom('subscribe', 'unsubscribe'), event_types: eventTypes, camera_ids: cameraIds }, { requiredKeys: ['type'] }),
  fc.nat({ max: 19 })
).map(([m, dice]) => dice === 0 ? { ...m, extra: true } : m)
/** Messages sent to one connection back to back, before their answers are read. */
const batch = fc.record({ connection: fc.nat({ max: CONNECTIONS - 1 }), messages: fc.array(message, { minLength: 1, maxLength: 4 }) })
const storm = fc.record({ batches: fc.array(batch, { minLength: 1, maxLength: 12 }), probeCamera: fc.constantFrom(...POOL) })

/** The next answer on a connection: a message (not a pushed one) or its close. */
async function answer (client: Client): Promise<{ message: Message } | { closed: { code: number, reason: string } }> {
  return await Promise.race([
    client.next(m => !PUSHED.has(m.type as string)).then(message => ({ message })),
    client.closed.then(closed => ({ closed }))
  ])
}

function check (got: Message, expected: Expected, sent: string): void {
  const context = `for ${sent.slice(0, 300)}: got ${JSON.stringify(got).slice(0, 300)}`
  if (expected.kind === 'error') {
    if (got.type !== 'error' || got.code !== expected.code) throw new Error(`expected error ${expected.code} ${context}`)
    if (typeof got.message !== 'string' || got.message.length < 10) throw new Error(`an error without an explanation ${context}`)
    if (expected.code === 'too_many_cameras' && !got.message.includes(`MAX_CAMERA_IDS=${MAX_CAMERA_IDS}`)) throw new Error(`the error does not name the limit ${context}`)
    return
  }
  if (got.type !== 'subscribed') throw new Error(`expected subscribed ${context}`)
  const ids = got.camera_ids as string[] | null
  if (ids !== null && ids.length > MAX_CAMERA_IDS) throw new Error(`echoed more than MAX_CAMERA_IDS ids ${context}`)
  if (got.camera_count !== (ids === null ? 0 : ids.length)) throw new Error(`camera_count differs from the echoed list ${context}`)
  const echoed = { event_types: got.event_types, camera_ids: ids === null ? null : [...ids].sort() }
  if (JSON.stringify(echoed) !== JSON.stringify({ event_types: expected.eventTypes, camera_ids: expected.cameraIds })) {
    throw new Error(`expected ${JSON.stringify(expected)} ${context}`)
  }
}

/** One connection of the storm: the client, its member on the server and the model of its subscription. */
interface Slot { client: Client, member: Member, model: Model }

function serverState (member: Member): string {
  const { event_types: eventTypes, camera_ids: cameraIds } = member.subscription.toJSON()
  return JSON.stringify({ eventTypes: [...eventTypes].sort(), cameraIds: cameraIds === null ? null : [...cameraIds].sort() })
}
function modelState (model: Model): string {
  return JSON.stringify({ eventTypes: [...model.eventTypes].sort(), cameraIds: model.cameraIds === null ? null : [...model.cameraIds].sort() })
}

t.test('subscribe storms get the answers a model predicts, stay bounded and never close a connection without a defined reason', async t => {
  const server: Server = await startServer(t, { MAX_CAMERA_IDS, MAX_INBOUND_MESSAGE_BYTES, WS_MESSAGE_RATE_LIMIT: 0, WS_CONNECT_RATE_LIMIT: 0, RESUME_GRACE_MS: 0 })
  const seen = new WeakSet<Member>()
  let run = 0
  const answers = { subscribed: 0, invalid_message: 0, too_many_cameras: 0, oversized: 0 }

  /** Connects and finds the server's member for the new connection (the only one of the user not seen before). */
  async function open (user: string, tt: Test): Promise<Slot> {
    const client = await connect(server, tt, user)
    const member = [...server.app.hub.members()].find(m => m.connection.userId === user && !seen.has(m))
    if (member === undefined) throw new Error('no member for the new connection')
    seen.add(member)
    return { client, member, model: fresh() }
  }

  await fc.assert(fc.asyncProperty(storm, async ({ batches, probeCamera }) => {
    const user = `storm-${run++}`
    const closers: Array<() => void> = []
    const tt: Test = { teardown: fn => { closers.push(fn as () => void) } }
    try {
      const slots = await Promise.all(Array.from({ length: CONNECTIONS }, async () => await open(user, tt)))
      for (const { connection, messages } of batches) {
        let slot = slots[connection]
        const pending: Array<{ expected: Expected, sent: string }> = []
        const flush = async (): Promise<void> => {
          for (const { expected, sent } of pending.splice(0)) {
            const got = await answer(slot.client)
            if ('closed' in got) throw new Error(`closed with ${got.closed.code} ${got.closed.reason} instead of answering ${sent.slice(0, 200)}`)
            check(got.message, expected, sent)
          }
        }
        for (const m of messages) {
          const sent = JSON.stringify(m)
          if (Buffer.byteLength(sent) > MAX_INBOUND_MESSAGE_BYTES) {
            // Over the frame limit: closed with 1009, and nothing changed on the others.
            await flush()
            slot.client.send(sent)
            const got = await answer(slot.client)
            if (!('closed' in got) || got.closed.code !== 1009) throw new Error(`an oversized frame got ${JSON.stringify(got).slice(0, 200)} instead of a 1009 close`)
            answers.oversized++
            slot = slots[connection] = await open(user, tt)
            continue
          }
          const expected = apply(slot.model, m)
          answers[expected.kind === 'error' ? expected.code : 'subscribed']++
          pending.push({ expected, sent })
          slot.client.send(sent)
        }
        await flush()
        // The server's state is the model's, on every connection.
        for (const [i, { member, model }] of slots.entries()) {
          if (serverState(member) !== modelState(model)) throw new Error(`connection ${i}: server holds ${serverState(member)}, the model ${modelState(model)}`)
        }
      }

      // What the connections are sent follows their subscriptions.
      const event = await server.app.bus.publish({ type: 'camera_event', timestamp: new Date().toISOString(), camera_id: probeCamera, event_type: 'probe', data: {} })
      const alert = await server.app.bus.publish({ type: 'alert', timestamp: new Date().toISOString(), level: 'info', message: 'probe', data: {} })
      await server.app.hub.fanoutIdle()
      for (const [i, { client, model }] of slots.entries()) {
        await client.roundTrip()
        const got = (seq: number): boolean => client.messages.some(m => m.seq === seq)
        if (got(event.seq) !== wants(model, { type: 'camera_event', camera_id: probeCamera })) throw new Error(`connection ${i}: ${probeCamera} event delivered=${String(got(event.seq))} against the model ${modelState(model)}`)
        if (got(alert.seq) !== wants(model, { type: 'alert' })) throw new Error(`connection ${i}: alert delivered=${String(got(alert.seq))} against the model ${modelState(model)}`)
      }
      if (server.app.hub.connectionsOf(user) !== CONNECTIONS) throw new Error(`${user} has ${server.app.hub.connectionsOf(user)} connections, expected ${CONNECTIONS}`)
      await Promise.all(slots.map(async ({ client }) => { client.ws.close(); await client.closed }))
    } finally {
      for (const close of closers) close()
    }
  }), { numRuns: 150 })

  t.pass(`${run} storms matched the model: ${JSON.stringify(answers)}`)
  t.ok(Object.values(answers).every(count => count > 0), 'every kind of answer was seen (subscribed, each error, 1009)')
})
