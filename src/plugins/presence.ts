import fp from 'fastify-plugin'
import { PresenceFeed } from '../presence/presence-feed.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Who is online anywhere, for connections with the admin or presence role. */
    presence: PresenceFeed
  }
}

/** The presence feed over the backplane's presence (one process or the cluster alike). */
export default fp(async function presencePlugin (app) {
  const { hub, metrics } = app
  const feed = new PresenceFeed({
    presence: app.backplane.presence,
    offlineDelayMs: app.config.PRESENCE_OFFLINE_DELAY_MS,
    isOpen: member => hub.get(member.connection.id) === member,
    onSent: messages => { metrics.sent.inc({ type: 'user_status_change' }, messages) },
    onResyncFailed: err => { app.log.warn({ err }, 'presence changes may have been missed and who is online could not be read again; watchers keep getting changes') }
  })
  app.decorate('presence', feed)
  app.addHook('onClose', async () => { feed.stop() })
}, { name: 'presence', dependencies: ['config', 'backplane', 'hub', 'metrics'] })
