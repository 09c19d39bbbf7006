import cluster, { type Worker } from 'node:cluster'
import { pino } from 'pino'
import type { Config } from './config.js'
import { WORKER_EXIT_MARGIN_MS } from './config/settings.js'
import { AcceptBalancer } from './cluster/accept-balancer.js'
import { isLoadReport } from './cluster/messages.js'

/** A worker that dies this soon after it was started failed to start: restarting it would only loop. */
const STARTUP_GRACE_MS = 5000

/**
 * WORKERS=N: the primary process forks N workers that each run the whole
 * service and share one listening port. They share state through Redis
 * exactly as separate machines would, so the config check refuses N > 1
 * without REDIS_URL.
 *
 * WORKER_ACCEPT says who accepts the connections. `shared` (the default):
 * each worker accepts from the one listening socket, which costs nothing
 * beyond what one process pays; the primary keeps them even by asking a
 * worker that is full or well ahead to stop accepting for a while
 * (cluster/accept-plan.ts). `round-robin`: the primary accepts each
 * connection and passes it to the next worker over IPC, which costs the
 * primary ~50 µs and the worker ~55 µs more per handshake (measured on two
 * workers: 301 µs of CPU per handshake against 187 µs shared).
 *
 * The primary only supervises: a worker that crashes is replaced, a worker
 * that fails while starting stops everything (its error is on stderr), and
 * SIGTERM/SIGINT are passed on so every worker shuts down gracefully.
 * Each worker bounds its own shutdown by SHUTDOWN_TIMEOUT_MS; the primary
 * kills the ones still running a margin later (a worker that hangs, or is
 * stopped, cannot keep the service from exiting).
 *
 * @returns true in the primary (the caller must not start the service),
 *   false in a worker or with WORKERS=1.
 */
export function startWorkers (config: Config): boolean {
  if (config.WORKERS <= 1 || !cluster.isPrimary) return false
  const log = pino({ level: config.LOG_LEVEL, base: { pid: process.pid, role: 'primary' } })
  const startedAt = new Map<Worker, number>()
  let stopping = false
  // The primary speaks for the service: the workers read the same
  // environment, and server.ts keeps them from repeating these.
  for (const warning of config.warnings) log.warn(warning)

  // Read by node:cluster at the first fork, and fixed from then on.
  cluster.schedulingPolicy = config.WORKER_ACCEPT === 'shared' ? cluster.SCHED_NONE : cluster.SCHED_RR
  const balancer = config.WORKER_ACCEPT === 'shared'
    ? new AcceptBalancer({
      capacity: config.MAX_SOCKETS,
      command: (workerId, command) => {
        // With a callback, a worker that just exited is an error passed here, not an 'error' event.
        cluster.workers?.[workerId]?.send(command, undefined, undefined, () => {})
      },
      changed: (workerId, accept, held) => {
        log.debug({ workerPid: cluster.workers?.[workerId]?.process.pid, held, maxSockets: config.MAX_SOCKETS },
          accept ? 'a worker accepts connections again' : 'a worker stops accepting connections until the others catch up')
      }
    })
    : null
  if (balancer !== null) {
    cluster.on('message', (worker, message: unknown) => {
      if (isLoadReport(message)) balancer.report(worker.id, message)
    })
  }

  const fork = (): void => {
    const worker = cluster.fork()
    startedAt.set(worker, Date.now())
  }

  cluster.on('exit', (worker, code, signal) => {
    balancer?.remove(worker.id)
    const age = Date.now() - (startedAt.get(worker) ?? 0)
    startedAt.delete(worker)
    if (stopping) {
      if (startedAt.size === 0) {
        log.info('all workers stopped')
        process.exit(0)
      }
      return
    }
    if (age < STARTUP_GRACE_MS && code !== 0) {
      log.error({ workerPid: worker.process.pid, code, signal }, 'a worker failed while starting; stopping the service (see the error above)')
      stopping = true
      for (const other of startedAt.keys()) other.process.kill('SIGTERM')
      if (startedAt.size === 0) process.exit(1)
      process.exitCode = 1
      return
    }
    log.warn({ workerPid: worker.process.pid, code, signal }, 'a worker exited unexpectedly; starting a replacement')
    fork()
  })

  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    log.info({ signal, workers: startedAt.size }, 'shutting down: stopping every worker')
    // Always SIGTERM: after Ctrl-C the workers already got a SIGINT from the
    // terminal, and a second SIGINT would kill them without a graceful close.
    for (const worker of startedAt.keys()) worker.process.kill('SIGTERM')
    const timeoutMs = config.SHUTDOWN_TIMEOUT_MS + WORKER_EXIT_MARGIN_MS
    setTimeout(() => {
      const pids = [...startedAt.keys()].map(worker => worker.process.pid)
      log.error({ timeoutMs, workerPids: pids }, 'workers did not stop in time; killing them')
      for (const worker of startedAt.keys()) worker.process.kill('SIGKILL')
      process.exit(1)
    }, timeoutMs).unref()
  }
  process.once('SIGTERM', () => { shutdown('SIGTERM') })
  process.once('SIGINT', () => { shutdown('SIGINT') })

  log.info({ workers: config.WORKERS }, `starting ${config.WORKERS} worker processes on port ${config.PORT}`)
  for (let i = 0; i < config.WORKERS; i++) fork()
  return true
}
