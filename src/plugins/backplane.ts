import fp from 'fastify-plugin'
import type { Backplane } from '../backplane/backplane.js'
import { createBackplane, type BackplaneOverrides } from '../backplane/create-backplane.js'
import type { SlotLimiter } from '../backplane/slot-limiter.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** What one process and a Redis cluster do differently: bus, history, slots, totals, statistics leadership. */
    backplane: Backplane
    /** The per-user connection limit (the backplane's slots). */
    slotLimiter: SlotLimiter
  }
}

/**
 * Creates the backplane before the plugins that use it register. It takes
 * this instance's lease once the app is ready and gives everything back
 * when the app closes.
 */
export default fp<BackplaneOverrides>(async function backplanePlugin (app, overrides) {
  const backplane = await createBackplane(app.config, app.log, { bus: overrides.bus, history: overrides.history })
  app.decorate('backplane', backplane)
  app.decorate('slotLimiter', backplane.slots)
  app.addHook('onReady', async () => { await backplane.start() })
  app.addHook('onClose', async () => { await backplane.close() })
}, { name: 'backplane', dependencies: ['config'] })
