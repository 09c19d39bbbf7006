import { Redis, type Command } from 'ioredis'
import { afterPendingIo } from '../../net/after-pending-io.js'

/** How long a Redis command may take before it fails (a hung Redis must not hang requests). */
export const REDIS_COMMAND_TIMEOUT_MS = 2000

/** Connections already being dropped: the status stays 'ready' until the socket has closed. */
const dropping = new WeakSet<object>()

/** When each client's current connection last received bytes from Redis (ms). */
const lastReceived = new WeakMap<Redis, number>()

/**
 * A command that timed out while nothing at all came back on its connection
 * for a whole command timeout means Redis hangs or the network dropped
 * packets without closing the connection, which ioredis does not notice by
 * itself. Dropping the connection makes it reconnect: every user of the
 * client then sees it down and fails at once instead of waiting for a
 * timeout each time.
 *
 * A command that timed out while replies to earlier ones kept arriving only
 * waited behind them: Redis is slow or this process sent a long queue, and
 * dropping would turn load into an outage (every handshake refused, counts
 * repaired from scratch). The connection stays; the caller treats the
 * command's outcome as unknown, as it does anyway.
 *
 * Once per connection: a stall times out every command in flight at once,
 * and the status stays 'ready' until the hung socket has closed (up to
 * ioredis's disconnect timeout). Each disconnect() adds a 'close' listener
 * and a timer to that socket, so one per timed-out command piled them up
 * (MaxListenersExceededWarning: 11 close listeners added to [Socket]).
 */
export function dropIfHung (client: Redis, err: unknown): void {
  if (!(err instanceof Error) || err.message !== 'Command timed out' || client.status !== 'ready') return
  const stream = client.stream as object | undefined
  // Judged once the replies already in the socket are read: after this
  // process itself was busy past the timeout, they are there, unread, and
  // Redis was answering all along (see afterPendingIo).
  afterPendingIo(() => {
    if (client.status !== 'ready' || client.stream !== stream) return
    if (Date.now() - (lastReceived.get(client) ?? 0) < REDIS_COMMAND_TIMEOUT_MS) return
    if (stream !== undefined) {
      if (dropping.has(stream)) return
      dropping.add(stream)
    }
    client.disconnect(true)
  })
}

/** `host:port` of a Redis URL, without the password, for messages and logs. */
export function describeRedisUrl (url: string): string {
  const parsed = new URL(url)
  return `${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}`
}

type WriteableStream = Parameters<Redis['sendCommand']>[1]

/**
 * ioredis with its command timeout judged after pending I/O. ioredis's own
 * `commandTimeout` is a plain timer: after this process was busy past it (a
 * GC pause, a long fan-out, thousands of sockets closing at once) it fires
 * in the timers phase, before the poll phase reads the reply already waiting
 * in the socket, so a command Redis answered in time failed (an admitted
 * handshake was refused as unavailable, a publish reported unconfirmed).
 * Here the timer's verdict waits until the replies already received are read
 * (afterPendingIo); a command whose reply is not among them fails as before,
 * with ioredis's message, and stays in ioredis's queue for its late reply.
 */
class PatientRedis extends Redis {
  override sendCommand (command: Command, stream?: WriteableStream): unknown {
    const timer = setTimeout(() => {
      afterPendingIo(() => { command.reject(new Error('Command timed out')) })
    }, REDIS_COMMAND_TIMEOUT_MS)
    const clear = (): void => { clearTimeout(timer) }
    command.promise.then(clear, clear)
    return super.sendCommand(command, stream)
  }
}

/**
 * A Redis client that fails fast: commands issued while the connection is
 * down are rejected at once instead of queued (callers answer 503 rather
 * than hang), a hung server times out, and the client reconnects by itself
 * forever with a short back-off. It connects only when `connect()` is called.
 */
export function createRedisClient (url: string, name: string): Redis {
  // No `commandTimeout`: PatientRedis keeps its own (REDIS_COMMAND_TIMEOUT_MS).
  const client = new PatientRedis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    connectTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectionName: name,
    retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000)
  })
  // Failed reconnection attempts are reported through RedisHealth, once per
  // outage; without a listener every attempt would be an uncaught error.
  client.on('error', () => {})
  // Every reply moves this on, so a timeout can tell a slow queue from a silent Redis (see dropIfHung).
  client.on('connect', () => {
    lastReceived.set(client, Date.now())
    client.stream.on('data', () => { lastReceived.set(client, Date.now()) })
  })
  return client
}

/**
 * Connects a client at start-up, or throws an error that tells the operator
 * what to fix. The client does not keep retrying after a failure here.
 */
export async function connectOrExplain (client: Redis, url: string): Promise<void> {
  // connect() rejects with "Connection is closed"; the socket error says why.
  let cause: Error | null = null
  const remember = (err: Error): void => { cause ??= err }
  client.on('error', remember)
  try {
    await client.connect()
    await client.ping()
  } catch (err) {
    client.disconnect()
    const reason = (cause ?? err as Error).message.replace(/\.$/, '')
    throw new Error(`could not connect to Redis at ${describeRedisUrl(url)} (REDIS_URL): ${reason}. Check that Redis is running, reachable from this host, and that REDIS_URL (host, port, password, db) is right.`)
  } finally {
    client.off('error', remember)
  }
}
