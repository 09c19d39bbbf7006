import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { Redis } from 'ioredis'
import type { Config } from '../src/config.js'
import { startServer, TEST_SECRET, type Server } from './helper.js'

type Test = { teardown (fn: () => unknown): void }

/**
 * Whether `redis-server` can be run here. Locally its tests are skipped
 * with a message saying how to install it; in CI (CI=true) they must run,
 * so a missing server fails the test file instead.
 */
export const HAVE_REDIS = spawnSync('redis-server', ['--version']).status === 0
if (!HAVE_REDIS && process.env.CI === 'true') {
  throw new Error('redis-server is missing and CI=true: the cluster tests must run in CI; install it with `apt-get install redis-server`')
}
/** The `skip` option of every test that needs redis-server. */
export const NEEDS_REDIS = HAVE_REDIS ? false : 'redis-server is not installed: `apt-get install redis-server` (Debian/Ubuntu) to run the cluster tests'

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** A real redis-server on a free port, without persistence: a restart loses every key. */
/** Keeps Redis busy for `ARGV[1]` ms in one script, as a slow command or an overloaded host would: `admin.eval(BUSY_SCRIPT, 0, ms)`. */
export const BUSY_SCRIPT = `
local function now ()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local start = now()
while now() - start < tonumber(ARGV[1]) do end
return 1
`

export class RedisServer {
  readonly port: number
  #process: ChildProcess | null = null

  private constructor (port: number) {
    this.port = port
  }

  static async start (t: Test): Promise<RedisServer> {
    // Another test file may take the same free port in between: try again on another.
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(await freePort())
      t.teardown(() => { server.kill() })
      try {
        await server.#spawn()
        return server
      } catch (err) {
        if (attempt === 3) throw err
      }
    }
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async #spawn (): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.#process = child
    let output = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) resolve()
      })
      child.once('exit', code => { reject(new Error(`redis-server exited with ${code}: ${output}`)) })
    })
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing answers, like a hung host. */
  pause (): void {
    this.#process?.kill('SIGSTOP')
  }

  resume (): void {
    this.#process?.kill('SIGCONT')
  }

  /** Kills the server at once (SIGKILL), as a crash would. */
  kill (): void {
    this.#process?.kill('SIGKILL')
    this.#process = null
  }

  async stop (): Promise<void> {
    const child = this.#process
    if (child === null) return
    this.#process = null
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }

  /** Starts the server again on the same port, empty. */
  async restart (): Promise<void> {
    await this.stop()
    await this.#spawn()
  }

  /** A plain client for looking at what the service stored. */
  client (t: Test): Redis {
    const client = new Redis(this.url, { lazyConnect: false, maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    t.teardown(() => { client.disconnect() })
    return client
  }
}

/** An in-process instance of the service on a free port, in cluster mode. */
export async function startInstance (t: Test, redis: RedisServer, overrides: Partial<Config> = {}, options: Parameters<typeof startServer>[2] = {}): Promise<Server> {
  return await startServer(t, { REDIS_URL: redis.url, ...overrides }, options)
}

export interface ChildInstance {
  child: ChildProcess
  url: string
  wsUrl: string
  port: number
  /** The addresses in the shape the test helpers take (there is no app object in this process). */
  server: Server
  output: () => string
}

/** The test processes' TypeScript loader (see loader/hooks.mjs): lighter than tsx. */
const LOADER = new URL('./loader/register.mjs', import.meta.url).href

/**
 * An instance of the service in its own process (`node --import
 * tests/loader/register.mjs src/server.ts`), so that a test can kill it with
 * SIGKILL like a crash.
 */
export async function spawnInstance (t: Test, env: Record<string, string>): Promise<ChildInstance> {
  const child = spawn(process.execPath, ['--import', LOADER, 'src/server.ts'], {
    env: { ...process.env, NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let output = ''
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (match !== null) resolve(Number(match[1]))
    })
    child.once('exit', code => { reject(new Error(`the instance exited with ${code}: ${output}`)) })
  })
  const url = `http://127.0.0.1:${port}`
  const wsUrl = `ws://127.0.0.1:${port}/api/ws/statistics`
  const server = { port, url, wsUrl, get app (): never { throw new Error('this instance runs in another process') } } as Server
  return { child, port, url, wsUrl, server, output: () => output }
}

/** Kills a process with SIGKILL and waits until it is gone. */
export async function killHard (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

/**
 * Waits until an asynchronous `condition` holds (for state kept in Redis or
 * another process), asking again after each answer. Fails after `timeoutMs`.
 */
export async function eventually (condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await condition().catch(() => false)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** Whether an ioredis connection's first write names it one of `names` (CLIENT SETNAME). */
function names (first: string, names: string[]): boolean {
  return names.some(name => first.includes(`setname\r\n$${Buffer.byteLength(name)}\r\n${name}\r\n`))
}

/**
 * A TCP proxy in front of a redis-server that can hold Redis's replies back
 * (Redis has run the commands; their answers are late, as over a slow
 * network), then deliver them in order.
 */
export class ReplyHoldingProxy {
  readonly port: number
  #holding = false
  /** Refused connections: every one (true), or those whose client names itself one of these. */
  #refusing: boolean | string[] = false
  /** Each open client connection's first write, which names it. */
  readonly #named = new Map<Socket, string>()
  readonly #held: Array<[Socket, Buffer]> = []

  private constructor (port: number) {
    this.port = port
  }

  static async start (t: Test, redisPort: number): Promise<ReplyHoldingProxy> {
    const sockets = new Set<Socket>()
    const server = createServer(client => {
      const upstream = connect(redisPort, '127.0.0.1')
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('error', () => {})
        socket.on('close', () => { sockets.delete(socket); proxy.#named.delete(client); client.destroy(); upstream.destroy() })
      }
      // ioredis names its connection in its first write (CLIENT SETNAME): refused ones are closed then.
      client.once('data', (first: Buffer) => {
        if (proxy.#refused(first)) {
          client.destroy()
          return
        }
        proxy.#named.set(client, first.toString('latin1'))
        upstream.write(first)
        client.pipe(upstream)
      })
      upstream.on('data', (chunk: Buffer) => {
        if (proxy.#holding) proxy.#held.push([client, chunk])
        else client.write(chunk)
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const proxy = new ReplyHoldingProxy((server.address() as { port: number }).port)
    t.teardown(() => {
      server.close()
      for (const socket of sockets) socket.destroy()
    })
    return proxy
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Replies from now on are kept back. */
  hold (): void {
    this.#holding = true
  }

  /** Delivers the replies kept back, in order, and passes later ones at once. */
  release (): void {
    this.#holding = false
    for (const [client, chunk] of this.#held.splice(0)) client.write(chunk)
  }

  /** Throws the replies kept back away (they were lost with the connection) and passes later ones at once. */
  discard (): void {
    this.#holding = false
    this.#held.length = 0
  }

  /**
   * New connections are closed at once, as an unreachable Redis would be:
   * all of them, or those of the given connection names (the service's are
   * `push`, `push-bus`, `push-statistics` and `push-presence`). Connections
   * already open stay.
   */
  refuse (names?: string[]): void {
    this.#refusing = names ?? true
  }

  /** Closes the open connections of one connection name, as a network fault would. */
  cut (name: string): void {
    for (const [client, first] of this.#named) if (names(first, [name])) client.destroy()
  }

  #refused (first: Buffer): boolean {
    const refusing = this.#refusing
    return typeof refusing === 'boolean' ? refusing : names(first.toString('latin1'), refusing)
  }

  /** New connections pass again. */
  accept (): void {
    this.#refusing = false
  }
}
