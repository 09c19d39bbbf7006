import { once } from 'node:events'
import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import WebSocket from 'ws'
import { buildApp, type BuildOptions } from '../src/app.js'
import { signToken, type TokenClaims } from '../src/auth/sign.js'
import { loadConfig, type Config } from '../src/config.js'

export const TEST_SECRET = 'test-secret-with-at-least-32-bytes!!'

export type Test = { teardown (fn: () => unknown): void }

/** The defaults with the test secret, overridden by `overrides`. */
export function testConfig (overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent' }), ...overrides }
}

export function token (sub: string, extra: Omit<Partial<TokenClaims>, 'sub'> & { ttlMs?: number } = {}): string {
  const { ttlMs = 3_600_000, ...claims } = extra
  return signToken({ sub, ...claims }, { key: TEST_SECRET, ttlMs })
}

/** Collects every log line the app writes, parsed. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = []
  readonly raw: string[] = []
  override _write (chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) {
      if (line === '') continue
      this.raw.push(line)
      this.lines.push(JSON.parse(line))
    }
    this.emit('line')
    done()
  }
}

export interface Server {
  app: FastifyInstance
  url: string
  wsUrl: string
  port: number
}

/** Builds the app, listens on a free port, and closes it when the test ends. */
export async function startServer (t: Test, overrides: Partial<Config> = {}, options: BuildOptions = {}): Promise<Server> {
  const config = testConfig(overrides)
  const app = await buildApp(config, { logger: options.logStream === undefined ? false : undefined, ...options })
  t.teardown(async () => { await app.close() })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { app, port, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/api/ws/statistics` }
}

/**
 * A WebSocket client that queues every message it receives, so a test can
 * wait for the next message (or the next of a type) without racing.
 */
export class Client {
  readonly ws: WebSocket
  readonly messages: Array<Record<string, unknown>> = []
  #cursor = 0
  #waiters: Array<() => void> = []
  closed: Promise<{ code: number, reason: string }>

  constructor (url: string, options?: WebSocket.ClientOptions) {
    this.ws = new WebSocket(url, options)
    this.ws.on('message', (data, isBinary) => {
      this.messages.push(isBinary ? { binary: true } : JSON.parse(data.toString()))
      for (const wake of this.#waiters.splice(0)) wake()
    })
    this.closed = new Promise(resolve => {
      this.ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        for (const wake of this.#waiters.splice(0)) wake()
      })
    })
    this.ws.on('error', () => {})
  }

  static async open (url: string, t: Test, options?: WebSocket.ClientOptions): Promise<Client> {
    const client = new Client(url, options)
    t.teardown(() => { client.ws.terminate() })
    await once(client.ws, 'open')
    return client
  }

  /** Resolves with the next message not yet taken that matches `predicate`. */
  async next (predicate: (message: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    for (;;) {
      while (this.#cursor < this.messages.length) {
        const message = this.messages[this.#cursor++]
        if (predicate(message)) return message
      }
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('connection closed while waiting for a message')
      await new Promise<void>(resolve => this.#waiters.push(resolve))
    }
  }

  async nextOfType (type: string): Promise<Record<string, unknown>> {
    return await this.next(message => message.type === type)
  }

  send (message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /** Sends a ping message and waits for its pong: everything sent before it has been handled. */
  async roundTrip (): Promise<void> {
    const stamp = `rt-${Math.random()}`
    this.send({ type: 'ping', timestamp: stamp })
    await this.next(message => message.type === 'pong' && message.echo === stamp)
  }
}

/** Opens an authenticated client and waits for its `connected` status. */
export async function connect (server: Server, t: Test, user = 'alice', claims: Omit<Partial<TokenClaims>, 'sub'> = {}): Promise<Client> {
  const client = await Client.open(`${server.wsUrl}?token=${token(user, claims)}`, t)
  await client.next(message => message.type === 'connection_status' && message.status === 'connected')
  return client
}

/** Opens a WebSocket and reports whether the server upgraded it or answered with HTTP. */
export async function tryUpgrade (url: string): Promise<{ upgraded: true } | { upgraded: false, status: number, headers: Record<string, unknown>, body: string }> {
  const ws = new WebSocket(url)
  ws.on('error', () => {})
  return await new Promise(resolve => {
    ws.once('upgrade', () => { resolve({ upgraded: true }); ws.terminate() })
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', chunk => { body += chunk })
      res.on('end', () => { resolve({ upgraded: false, status: res.statusCode ?? 0, headers: res.headers, body }) })
    })
  })
}

export async function publishEvent (server: Server, body: Record<string, unknown>, user = 'camera-manager'): Promise<Response> {
  return await fetch(`${server.url}/api/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token(user, { roles: ['publisher'] })}` },
    body: JSON.stringify(body)
  })
}

/**
 * Waits until `condition` holds, checking after each turn of the event loop
 * (for server-side state that has no event of its own, such as a slot freed
 * after the peer's socket closed). Fails after `timeoutMs`.
 */
export async function waitFor (condition: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 2))
  }
}
