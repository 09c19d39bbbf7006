import fp from 'fastify-plugin'
import type { History } from '../history/history.js'
import { Resumer } from '../resume/resumer.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Recent camera events and alerts, for resume after reconnect (the backplane's). */
    history: History
    resumer: Resumer
  }
}

/**
 * Resume after reconnect: the replay that connections ask for with
 * `last_seq`, from the backplane's history (which records every message
 * itself).
 */
export default fp(async function resumePlugin (app) {
  const { config, hub, metrics } = app
  const history = app.backplane.history
  const resumer = new Resumer({
    history,
    stream: app.bus.stream,
    // A gated member may hold as many live messages as a replay could cover.
    holdLimit: config.LIVE_GATE_LIMIT,
    graceMs: config.RESUME_HISTORY > 0 ? config.RESUME_GRACE_MS : 0,
    backlogBytes: config.SLOW_CONSUMER_SOFT_BYTES,
    // The frame of the member's own view: a scoped view is computed if it has none yet.
    statisticsFrame: async (member) => app.latestStatisticsFrame(member.scope) ??
      await app.latestStatistics(member.scope).then(() => app.latestStatisticsFrame(member.scope)),
    isOpen: member => hub.get(member.connection.id) === member,
    onSent: (type, count) => { metrics.sent.inc({ type }, count) },
    onError: (member, err, outcome) => {
      app.log.error({ err, connectionId: member.connection.id }, outcome === 'resync'
        ? 'resume failed: the history could not be read; the client is told to resync'
        : 'resume failed: the replay broke off; the connection is closed with 1011 so the client resumes again')
    }
  })
  app.decorate('history', history)
  app.decorate('resumer', resumer)

  app.addHook('onClose', async () => { resumer.stop() })
}, { name: 'resume', dependencies: ['config', 'backplane', 'hub', 'stats', 'metrics'] })
