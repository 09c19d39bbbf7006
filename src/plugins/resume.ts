import fp from 'fastify-plugin'
import type { History } from '../history/history.js'
import { MemoryHistory } from '../history/memory-history.js'
import { Resumer } from '../resume/resumer.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Recent camera events and alerts, for resume after reconnect. */
    history: History
    resumer: Resumer
  }
}

/**
 * Resume after reconnect: the history, appended from the bus by one
 * subscription, and the replay that connections ask for with `last_seq`.
 */
export default fp<{ history?: History }>(async function resumePlugin (app, options) {
  const { config, hub, metrics } = app
  // In a cluster the history lives in Redis and the publish script appends
  // to it; otherwise this process records what passes on its bus.
  const shared = options.history === undefined ? app.cluster?.history : undefined
  const history = options.history ?? shared ?? new MemoryHistory({ maxMessages: config.RESUME_HISTORY, windowMs: config.RESUME_WINDOW_MS })
  const stopAppending = shared !== undefined
    ? () => {}
    : app.bus.onMessage(message => {
      void Promise.resolve(history.append(message)).catch((err: unknown) => {
        app.log.error({ err, seq: message.seq }, 'could not record a message for resume; clients resuming past it will be told to resync')
      })
    })
  const resumer = new Resumer({
    history,
    stream: app.bus.stream,
    // A gated member may hold as many live messages as a replay could cover.
    holdLimit: config.LIVE_GATE_LIMIT,
    graceMs: config.RESUME_HISTORY > 0 ? config.RESUME_GRACE_MS : 0,
    backlogBytes: config.SLOW_CONSUMER_SOFT_BYTES,
    statisticsFrame: async () => app.latestStatisticsFrame() ?? await app.statistics.collect().then(() => app.latestStatisticsFrame()),
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

  app.addHook('onClose', async () => {
    stopAppending()
    resumer.stop()
  })
}, { name: 'resume', dependencies: ['config', 'cluster', 'hub', 'stats', 'metrics'] })
