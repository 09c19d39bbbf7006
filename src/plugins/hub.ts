import fp from 'fastify-plugin'
import type { Bus } from '../bus/bus.js'
import { MemoryBus } from '../bus/memory-bus.js'
import { ConnectionHub } from '../hub/connection-hub.js'
import { startHeartbeat } from '../hub/heartbeat.js'
import { LocalSlotLimiter, type SlotLimiter } from '../hub/slot-limiter.js'

declare module 'fastify' {
  interface FastifyInstance {
    hub: ConnectionHub
    bus: Bus
    /** The per-user connection limit: in this process, or across the cluster. */
    slotLimiter: SlotLimiter
  }
}

/**
 * The connection hub, the fan-out bus between publishers and the hub, and
 * the heartbeat that sweeps dead connections out of the hub.
 */
export default fp<{ bus?: Bus }>(async function hubPlugin (app, options) {
  const cluster = app.hasDecorator('cluster') ? app.cluster : null
  const { metrics } = app
  const hub = new ConnectionHub({
    fanoutSliceSize: app.config.FANOUT_SLICE_SIZE,
    outboundLimits: { softBytes: app.config.SLOW_CONSUMER_SOFT_BYTES, hardBytes: app.config.SLOW_CONSUMER_HARD_BYTES },
    // Counted per message when its fan-out completes, not per connection.
    onFanout ({ type, recipients, seconds }) {
      metrics.fanout.observe(seconds)
      if (recipients > 0) metrics.sent.inc({ type }, recipients)
    }
  })
  const bus = options.bus ?? cluster?.bus ?? new MemoryBus({ idempotencyWindowMs: app.config.IDEMPOTENCY_WINDOW_MS, logger: app.log })
  app.decorate('hub', hub)
  app.decorate('bus', bus)
  const slotLimiter: SlotLimiter = cluster?.slots ?? new LocalSlotLimiter(app.config.MAX_CONNECTIONS_PER_USER)
  app.decorate('slotLimiter', slotLimiter)

  const stopListening = bus.onMessage(message => { hub.deliver(message) })
  const stopHeartbeat = startHeartbeat(hub, app.config.HEARTBEAT_INTERVAL_MS, id => {
    app.log.info({ connectionId: id }, 'terminating connection: no pong since the last heartbeat')
  })

  app.addHook('onClose', async () => {
    stopHeartbeat()
    stopListening()
    await bus.close()
  })
}, { name: 'hub', dependencies: ['config', 'metrics'] })
