import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { startWorkers } from './workers.js'

/** How long a shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 10_000

function readConfig (): Config {
  try {
    return loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) console.error(`config error: ${problem}`)
      console.error('The service did not start. Fix the variables above and start it again.')
      process.exit(1)
    }
    throw err
  }
}

/**
 * The only file that listens: reads the configuration, starts the service,
 * and shuts it down gracefully on SIGTERM and SIGINT (every WebSocket gets a
 * close frame 1001, the statistics task stops).
 */
async function main (): Promise<void> {
  const config = readConfig()
  if (startWorkers(config)) return
  const app = await buildApp(config).catch((err: unknown) => {
    console.error(`start-up error: ${(err as Error).message}`)
    console.error('The service did not start.')
    process.exit(1)
  })
  if (config.jwt.development) {
    app.log.warn('!!! JWT_SECRET is not set: using the fixed DEVELOPMENT secret. Anyone can sign tokens for this service. Set JWT_SECRET (or JWT_PUBLIC_KEY) before exposing it. !!!')
  }

  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down: closing connections')
    const timer = setTimeout(() => {
      app.log.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out; exiting')
      process.exit(1)
    }, SHUTDOWN_TIMEOUT_MS)
    timer.unref()
    app.close().then(() => {
      app.log.info('shutdown complete')
      process.exit(0)
    }, (err: unknown) => {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.once('SIGTERM', () => { shutdown('SIGTERM') })
  process.once('SIGINT', () => { shutdown('SIGINT') })

  try {
    await app.listen({ port: config.PORT, host: config.HOST })
  } catch (err) {
    app.log.error({ err }, `could not listen on ${config.HOST}:${config.PORT}`)
    process.exit(1)
  }
}

void main()
