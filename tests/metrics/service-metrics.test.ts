import t from 'tap'
import { ServiceMetrics, type HubView } from '../../src/metrics/service-metrics.js'

/** The value of one sample in a Prometheus text exposition, or undefined when absent. */
function sample (text: string, name: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

t.test('open connections and users are read from the hub when scraped', async t => {
  let view: HubView = { size: 3, userCount: 2 }
  const metrics = new ServiceMetrics(() => view)
  let text = await metrics.render()
  t.equal(sample(text, 'push_open_connections'), 3)
  t.equal(sample(text, 'push_connected_users'), 2)
  view = { size: 1, userCount: 1 }
  text = await metrics.render()
  t.equal(sample(text, 'push_open_connections'), 1, 'the next scrape sees the change')
})

t.test('before the hub exists every hub metric reads 0', async t => {
  const text = await new ServiceMetrics(() => undefined).render()
  for (const name of ['push_open_connections', 'push_connected_users', 'push_coalesced_total', 'push_snapshots_superseded_total', 'push_slow_consumer_closed_total']) {
    t.equal(sample(text, name), 0, name)
  }
})

t.test('the outbound queue\'s counters are reported as they are, not added up across scrapes', async t => {
  const counters = { coalesced: 5, superseded: 2, slow_consumer_closed: 1 }
  const metrics = new ServiceMetrics(() => ({ size: 0, userCount: 0, counters }))
  await metrics.render()
  counters.coalesced = 7
  const text = await metrics.render()
  t.equal(sample(text, 'push_coalesced_total'), 7)
  t.equal(sample(text, 'push_snapshots_superseded_total'), 2)
  t.equal(sample(text, 'push_slow_consumer_closed_total'), 1)
})

t.test('slow consumers are also read under the camel-case name, and missing counters read 0', async t => {
  const text = await new ServiceMetrics(() => ({ size: 0, userCount: 0, counters: { slowConsumerClosed: 4 } })).render()
  t.equal(sample(text, 'push_slow_consumer_closed_total'), 4)
  t.equal(sample(text, 'push_coalesced_total'), 0)
})

t.test('refusals are counted by code and messages by type', async t => {
  const metrics = new ServiceMetrics(() => undefined)
  metrics.refused.inc({ code: '4401' })
  metrics.refused.inc({ code: '4401' })
  metrics.sent.inc({ type: 'camera_event' }, 3)
  metrics.drained.inc()
  const text = await metrics.render()
  t.equal(sample(text, 'push_connections_refused_total{code="4401"}'), 2)
  t.equal(sample(text, 'push_messages_sent_total{type="camera_event"}'), 3)
  t.equal(sample(text, 'push_drain_closed_total'), 1)
})

t.test('the fan-out duration is a histogram in seconds', async t => {
  const metrics = new ServiceMetrics(() => undefined)
  metrics.fanout.observe(0.0003)
  const text = await metrics.render()
  t.equal(sample(text, 'push_fanout_duration_seconds_bucket{le="0.00025"}'), 0)
  t.equal(sample(text, 'push_fanout_duration_seconds_bucket{le="0.0005"}'), 1)
  t.equal(sample(text, 'push_fanout_duration_seconds_count'), 1)
})

t.test('each instance counts on its own; process metrics are shared and appear in every one', async t => {
  const a = new ServiceMetrics(() => undefined)
  const b = new ServiceMetrics(() => undefined)
  a.drained.inc()
  const [textA, textB] = await Promise.all([a.render(), b.render()])
  t.equal(sample(textA, 'push_drain_closed_total'), 1)
  t.equal(sample(textB, 'push_drain_closed_total'), 0)
  t.match(textA, /\nprocess_cpu_user_seconds_total /)
  t.match(textB, /\nprocess_cpu_user_seconds_total /)
  t.equal(textA.split('\n').filter(line => line.startsWith('process_cpu_user_seconds_total ')).length, 1, 'once per exposition')
})

t.test('the content type is Prometheus text', async t => {
  t.match(new ServiceMetrics(() => undefined).contentType, /^text\/plain; version=0\.0\.4/)
})
