import fp from 'fastify-plugin'
import type { Bus } from '../bus/bus.js'
import { ConnectionHub } from '../hub/connection-hub.js'
import { startHeartbeat } from '../hub/heartbeat.js'

declare module 'fastify' {
  interface FastifyInstance {
    hub: ConnectionHub
    /** The backplane's bus: publish, `seq`, `stream`. */
    bus: Bus
  }
}

/**
 * The connection hub, fed by the backplane's bus, and the heartbeat that
 * sweeps dead connections out of the hub.
 */
export default fp(async function hubPlugin (app) {
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
  const bus = app.backplane.bus
  app.decorate('hub', hub)
  app.decorate('bus', bus)

  const stopListening = bus.onMessage(message => { hub.deliver(message) })
  const stopHeartbeat = startHeartbeat(hub, app.config.HEARTBEAT_INTERVAL_MS, id => {
    app.log.info({ connectionId: id }, 'terminating connection: no pong since the last heartbeat')
  })

  // The bus itself is closed with the backplane.
  app.addHook('onClose', async () => {
    stopHeartbeat()
    stopListening()
  })
}, { name: 'hub', dependencies: ['config', 'metrics', 'backplane'] })
