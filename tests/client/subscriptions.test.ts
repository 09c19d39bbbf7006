import t from 'tap'
import { checkTypes, SUBSCRIBABLE_EVENT_TYPES, Subscriptions } from '../../src/client/subscriptions.js'

const event = (seq: number, camera = 'cam-1'): { type: string, seq: number, camera_id: string } => ({ type: 'camera_event', seq, camera_id: camera })

t.test('subscribe and unsubscribe return the message for a live connection; unknown types are refused', async t => {
  const subs = new Subscriptions(true)
  t.same(subs.subscribe(['alert']), { type: 'subscribe', event_types: ['alert'] })
  t.same(subs.subscribe(['camera_event'], ['cam-2']), { type: 'subscribe', event_types: ['camera_event'], camera_ids: ['cam-2'] })
  t.same(subs.unsubscribe(['alert'], ['cam-2']), { type: 'unsubscribe', event_types: ['alert'], camera_ids: ['cam-2'] })
  t.throws(() => subs.subscribe(['motion' as 'alert']), /subscribe\(\): unknown event type "motion"; use camera_event or alert/)
  t.throws(() => checkTypes('unsubscribe', 'alert' as unknown as string[]), /eventTypes must be an array/)
  t.same(checkTypes('subscribe', [...SUBSCRIBABLE_EVENT_TYPES]), SUBSCRIBABLE_EVENT_TYPES)
})

t.test('a new connection gets the page\'s filter again, dropped types first; nothing while it never changed', async t => {
  const subs = new Subscriptions(true)
  t.same(subs.resendMessages(), [])
  subs.unsubscribe(['alert'])
  subs.subscribe([], ['cam-1', 'cam-2'])
  t.same(subs.resendMessages(), [
    { type: 'unsubscribe', event_types: ['alert'] },
    { type: 'subscribe', event_types: ['camera_event'], camera_ids: ['cam-1', 'cam-2'] }
  ])
  subs.subscribe(['alert'], null)
  t.same(subs.resendMessages(), [{ type: 'subscribe', event_types: ['camera_event', 'alert'], camera_ids: null }])
})

t.test('the filter: cameras filter camera events only, types filter both', async t => {
  const subs = new Subscriptions(true)
  t.ok(subs.wants(event(1, 'any')))
  subs.subscribe([], ['cam-1'])
  t.ok(subs.wants(event(1, 'cam-1')))
  t.notOk(subs.wants(event(2, 'cam-2')))
  t.ok(subs.wants({ type: 'alert', seq: 3 }))
  subs.unsubscribe(['alert'])
  t.notOk(subs.wants({ type: 'alert', seq: 4 }))
})

t.test('resume: last_seq once a seq was seen, with the stream once known; none when resume is off', async t => {
  const subs = new Subscriptions(true)
  t.equal(subs.resumeQuery(), '')
  t.equal(subs.resuming, false)
  subs.observe(5)
  t.equal(subs.resumeQuery(), '&last_seq=5')
  t.equal(subs.resuming, true)
  subs.connected('boot a/b')
  t.equal(subs.resumeQuery(), '&last_seq=5&stream=boot%20a%2Fb')
  subs.connected(undefined)
  t.equal(subs.resumeQuery(), '&last_seq=5&stream=boot%20a%2Fb', 'a connected status without a stream keeps the last one')

  const off = new Subscriptions(false)
  off.observe(5)
  t.equal(off.resumeQuery(), '')
  t.equal(off.resuming, false)
  t.equal(off.lastSeq, 5)
})

t.test('a jump on one connection is never a gap: it is another camera\'s or user\'s message', async t => {
  const subs = new Subscriptions(true)
  subs.connected('s')
  subs.observe(1)
  t.equal(subs.observe(4), null, 'seqs 2 and 3 were for someone else')
  t.equal(subs.lastSeq, 4, 'the seq is still recorded for resume')
  subs.resumeQuery()
  subs.connected('s')
  t.equal(subs.observe(9), null, 'across a resumed reconnect the replay covered what was missed')
})

t.test('without resume, the jump across a reconnect is reported, unless a filter makes it expected', async t => {
  const subs = new Subscriptions(false)
  subs.connected('s')
  subs.observe(1)
  t.equal(subs.observe(3), null)
  subs.resumeQuery()
  subs.connected('s')
  t.same(subs.observe(7), { from: 4, to: 6 }, 'what was published while disconnected')
  t.equal(subs.observe(9), null)
  subs.subscribe([], ['cam-1'])
  subs.resumeQuery()
  subs.connected('s')
  t.equal(subs.observe(20), null, 'with a camera filter the jump is expected')
  t.equal(subs.lastSeq, 20)
})

t.test('after connected, a lower seq is a restarted service, not a duplicate', async t => {
  const subs = new Subscriptions(true)
  subs.observe(40)
  t.equal(subs.observe(40), null)
  t.equal(subs.lastSeq, 40, 'a duplicate on the same connection is ignored')
  subs.connected('new-stream')
  t.equal(subs.observe(1), null)
  t.equal(subs.lastSeq, 1)
  t.equal(subs.observe(3), null)
  t.equal(subs.lastSeq, 3)
})

t.test('resync_required: the next seq is a new baseline, and the info carries the service\'s words', async t => {
  const subs = new Subscriptions(true)
  subs.observe(7)
  t.same(subs.resyncRequired('too many missed'), { lastSeq: 7, reason: 'too many missed' })
  t.equal(subs.observe(100), null)
  t.same(subs.resyncRequired(undefined), { lastSeq: 100, reason: 'missed messages are no longer kept' })
})

t.test('camera event types: sent as camera_event_types, re-sent on a new connection, filtering camera events only', async t => {
  const subs = new Subscriptions(true)
  t.same(subs.subscribe([], undefined, ['motion']), { type: 'subscribe', event_types: [], camera_event_types: ['motion'] })
  t.same(subs.unsubscribe([], undefined, ['motion']), { type: 'unsubscribe', event_types: [], camera_event_types: ['motion'] })
  t.same(subs.subscribe([], ['cam-1'], ['face_recognized']), { type: 'subscribe', event_types: [], camera_ids: ['cam-1'], camera_event_types: ['face_recognized'] })
  t.same(subs.resendMessages(), [{ type: 'subscribe', event_types: ['camera_event', 'alert'], camera_ids: ['cam-1'], camera_event_types: ['face_recognized'] }])
  t.ok(subs.wants({ type: 'camera_event', seq: 1, camera_id: 'cam-1', event_type: 'face_recognized' }))
  t.notOk(subs.wants({ type: 'camera_event', seq: 2, camera_id: 'cam-1', event_type: 'motion' }))
  t.ok(subs.wants({ type: 'alert', seq: 3 }), 'alerts are not filtered by type')
  t.same(subs.subscribe([], null, null), { type: 'subscribe', event_types: [], camera_ids: null, camera_event_types: null })
  t.same(subs.resendMessages(), [{ type: 'subscribe', event_types: ['camera_event', 'alert'], camera_ids: null }], 'no type filter: every type, as a new connection has')
  t.ok(subs.wants({ type: 'camera_event', seq: 4, camera_id: 'cam-2', event_type: 'motion' }))
  t.throws(() => subs.subscribe([], undefined, ['']), /cameraEventTypes must be an array of event types/)
  t.throws(() => subs.unsubscribe([], undefined, 'motion' as unknown as string[]), /unsubscribe\(\): cameraEventTypes must be an array/)
})
