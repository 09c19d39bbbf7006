import t from 'tap'
import fc from 'fast-check'
import { MAX_DATA_DEPTH } from '../../src/protocol/depth.js'
import { Client, startServer, token, type Server } from '../helper.js'

/**
 * No schema-valid body may produce a 500. The bodies here are built from
 * the EventBody / AlertBody schemas, with values at the edges of every
 * field: date-times the `date-time` format accepts but `Date` cannot read
 * (leap seconds, `+05`, a space or a lower-case `t`), offsets up to ±23:59,
 * years 0000 and 9999, long fractions, `data` nested up to (and past) the
 * depth limit, and odd keys such as "__proto__". Each is posted to a real
 * server; the answer is 202, or a 4xx with a code and a message.
 */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

const offset = fc.oneof(
  fc.constantFrom('Z', 'z'),
  fc.record({
    sign: fc.constantFrom('+', '-'),
    hours: fc.oneof(fc.constantFrom(0, 23), fc.integer({ min: 0, max: 23 })),
    minutes: fc.oneof(fc.constantFrom(0, 59), fc.integer({ min: 0, max: 59 })),
    style: fc.constantFrom('HH:MM', 'HHMM', 'HH')
  }).map(({ sign, hours, minutes, style }) =>
    sign + pad(hours) + (style === 'HH' ? '' : (style === 'HH:MM' ? ':' : '') + pad(minutes)))
)

const timestamp = fc.record({
  year: fc.oneof(fc.constantFrom(0, 1, 99, 1970, 2024, 9999), fc.integer({ min: 0, max: 9999 })),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 28 }),
  // second 60 is a leap second; with an offset it is format-valid only when it lands on 23:59 UTC.
  time: fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 })),
    fc.constant<[number, number, number]>([23, 59, 60]),
    fc.constant<[number, number, number]>([0, 0, 60])
  ),
  fraction: fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{1,12}$/)),
  separator: fc.constantFrom('T', 't', ' '),
  offset
}).map(({ year, month, day, time, fraction, separator, offset }) =>
  `${pad(year, 4)}-${pad(month)}-${pad(day)}${separator}${pad(time[0])}:${pad(time[1])}:${pad(time[2])}${fraction}${offset}`)

/** Keys as a publisher might send them, including ones that mean something to JavaScript. */
const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '', 'hasOwnProperty'))

/** JSON text of an object, written by hand so that a "__proto__" key really is in the body. */
function objectText (entries: Array<[string, string]>): string {
  return '{' + entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',') + '}'
}

const leaf = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)).map(v => JSON.stringify(v))

/** `data` as JSON text: flat objects with odd keys, or a chain nested to a depth around the limit. */
const data = fc.oneof(
  fc.array(fc.tuple(key, leaf), { maxLength: 6 }).map(objectText),
  fc.record({ depth: fc.integer({ min: 1, max: MAX_DATA_DEPTH + 2 }), k: key, inner: leaf, array: fc.boolean() }).map(({ depth, k, inner, array }) => {
    // `depth` levels in all: the data object and depth - 1 nested containers.
    let text = inner
    for (let level = 1; level < depth; level++) text = array ? `[${text}]` : objectText([[k, text]])
    return objectText([['nested', text]])
  })
)

const field = (name: string, text: string): string => `${JSON.stringify(name)}:${text}`
const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined })

const eventBody = fc.record({
  camera_id: fc.string({ minLength: 1, maxLength: 128 }),
  event_type: fc.string({ minLength: 1, maxLength: 64 }),
  data: optional(data),
  timestamp: optional(timestamp)
}).map(b => '{' + [
  field('camera_id', JSON.stringify(b.camera_id)),
  field('event_type', JSON.stringify(b.event_type)),
  ...(b.data === undefined ? [] : [field('data', b.data)]),
  ...(b.timestamp === undefined ? [] : [field('timestamp', JSON.stringify(b.timestamp))])
].join(',') + '}')

const alertBody = fc.record({
  level: fc.constantFrom('info', 'warning', 'critical'),
  message: fc.string({ minLength: 1, maxLength: 2000 }),
  user_id: optional(fc.oneof(fc.string({ minLength: 1, maxLength: 256 }), fc.constantFrom('__proto__', 'constructor'))),
  data: optional(data)
}).map(b => '{' + [
  field('level', JSON.stringify(b.level)),
  field('message', JSON.stringify(b.message)),
  ...(b.user_id === undefined ? [] : [field('user_id', JSON.stringify(b.user_id))]),
  ...(b.data === undefined ? [] : [field('data', b.data)])
].join(',') + '}')

async function post (server: Server, path: string, body: string): Promise<{ status: number, reply: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token('publisher', { roles: ['publisher'] })}` },
    body
  })
  return { status: response.status, reply: await response.json() as Record<string, unknown> }
}

t.test('no schema-valid event or alert body produces a 500', async t => {
  const server = await startServer(t, { RATE_LIMIT_MAX: 0, RESUME_GRACE_MS: 0 })
  // A listener, so every accepted message is also encoded and sent.
  const listener = await Client.open(`${server.wsUrl}?token=${token('__proto__')}`, t)
  await listener.next(m => m.status === 'connected')
  const statuses = new Map<number, number>()
  const property = fc.asyncProperty(fc.oneof(
    eventBody.map(body => ['/api/events', body] as const),
    alertBody.map(body => ['/api/alerts', body] as const)
  ), async ([path, body]) => {
    const { status, reply } = await post(server, path, body)
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
    if (status === 202) {
      if (typeof reply.seq !== 'number') throw new Error(`202 without a seq for ${body.slice(0, 200)}`)
      return
    }
    if (status < 400 || status >= 500) throw new Error(`status ${status} for ${body.slice(0, 300)}: ${JSON.stringify(reply)}`)
    if (typeof reply.message !== 'string' || reply.message.length < 10) throw new Error(`a ${status} without an explanation: ${JSON.stringify(reply)}`)
  })
  await fc.assert(property, { numRuns: 400 })
  t.ok((statuses.get(202) ?? 0) > 0, `some were accepted (${JSON.stringify([...statuses])})`)
  t.equal((await fetch(`${server.url}/healthz`)).status, 200, 'still serving')
  await listener.roundTrip()
})

t.test('timestamps Date cannot read: a leap second is accepted as 23:59:59.999, out-of-range years are a 400', async t => {
  const server = await startServer(t, { RESUME_GRACE_MS: 0 })
  const listener = await Client.open(`${server.wsUrl}?token=${token('viewer')}`, t)
  await listener.next(m => m.status === 'connected')
  const cases: Array<[string, string]> = [
    ['2024-06-30T23:59:60Z', '2024-06-30T23:59:59.999Z'],
    ['2024-07-01T01:59:60+02:00', '2024-06-30T23:59:59.999Z'],
    ['2026-01-31T12:00:00+05', '2026-01-31T07:00:00.000Z'],
    ['2026-01-31 12:00:00.123456z', '2026-01-31T12:00:00.123Z'],
    ['0000-01-01T00:00:00-23:59', '0000-01-01T23:59:00.000Z']
  ]
  for (const [sent, expected] of cases) {
    const { status, reply } = await post(server, '/api/events', JSON.stringify({ camera_id: 'c', event_type: 'e', timestamp: sent }))
    t.equal(status, 202, `${sent} is accepted`)
    if (status !== 202) continue
    const event = await listener.nextOfType('camera_event')
    t.equal(event.seq, reply.seq)
    t.equal(event.timestamp, expected, `${sent} is delivered as ${expected}`)
  }
  for (const sent of ['0000-01-01T00:00:00+00:01', '9999-12-31T23:59:59-00:01']) {
    const { status, reply } = await post(server, '/api/events', JSON.stringify({ camera_id: 'c', event_type: 'e', timestamp: sent }))
    t.equal(status, 400, `${sent} is refused`)
    t.match(reply, { code: 'PUSH_INVALID_TIMESTAMP', message: /body\.timestamp falls outside the years 0000 to 9999/ })
  }
})
