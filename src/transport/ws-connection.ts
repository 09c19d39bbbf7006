import type { Socket } from 'node:net'
import WebSocket from 'ws'
import type { Connection } from '../hub/member.js'
import type { OutboundFrame } from '../hub/outbound-frame.js'
import { DEFAULT_LIMITS, newCounters, OutboundQueue, type OutboundCounters, type OutboundLimits, type Sink } from '../hub/outbound-queue.js'
import type { FrameCompressor } from './deflate.js'
import { frameText } from './frame.js'
import { compressorOf } from './permessage-deflate.js'
import { isOneOff } from '../protocol/one-off-frames.js'

/** Where a connection's outbound queue gets its limits and counts. */
export interface OutboundOptions {
  limits: OutboundLimits
  counters: OutboundCounters
}

const SLOW_CONSUMER_CODE = 1013
const SLOW_CONSUMER_REASON = 'slow consumer'

/** The wire form of a shared frame, computed once and cached on it. */
function wireOf (frame: OutboundFrame): Buffer {
  if (frame.wire !== undefined) return frame.wire
  if (frame.parts === null) return (frame.wire = frameText(frame.payload))
  const parts = frame.parts.map(wireOf)
  return (frame.wire = Buffer.concat(parts))
}

/**
 * A `ws` socket seen through the hub's Connection interface.
 *
 * Data frames bypass ws's per-send framing: the hub hands over a message
 * framed once (see frame.ts), and the bytes go through this connection's
 * outbound queue straight to the TCP socket. That is safe because ws's
 * sender never compresses (see permessage-deflate.ts), so it never holds
 * frames back and writes its own control frames (ping, close) synchronously
 * to the same socket: the order on the wire is the order of the calls. Data
 * is only written while the socket is OPEN, never after a close frame.
 *
 * A socket that negotiated permessage-deflate gets the compressed frame,
 * built once per message for all of them (deflate.ts); others the plain one.
 */
export class WsConnection implements Connection, Sink {
  readonly id: string
  readonly userId: string
  readonly #socket: WebSocket
  readonly #raw: Socket
  readonly #queue: OutboundQueue
  readonly #compressor: FrameCompressor | null

  constructor (id: string, userId: string, socket: WebSocket, outbound: OutboundOptions = { limits: DEFAULT_LIMITS, counters: newCounters() }) {
    this.id = id
    this.userId = userId
    this.#socket = socket
    this.#raw = (socket as unknown as { _socket: Socket })._socket
    this.#queue = new OutboundQueue(this, outbound.limits, outbound.counters)
    this.#compressor = compressorOf(socket)
  }

  send (frame: Buffer): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return
    const compressed = this.#compressor === null || isOneOff(frame) ? null : this.#compressor.wireOfPayload(frame)
    this.#queue.push(compressed ?? frameText(frame), false)
  }

  sendShared (frame: OutboundFrame): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return
    this.#queue.push(this.#compressor === null ? wireOf(frame) : this.#compressor.wireOf(frame, wireOf), frame.supersedable)
  }

  close (code: number, reason: string): void {
    // What is due this tick goes out before the close frame.
    this.#queue.flush()
    this.#queue.discard()
    this.#socket.close(code, reason)
  }

  terminate (): void {
    this.#queue.discard()
    this.#socket.terminate()
  }

  ping (): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.ping()
  }

  get bufferedAmount (): number {
    return this.#socket.bufferedAmount + this.#queue.pendingBytes
  }

  // ---- Sink: the outbound queue's view of the socket ----

  get open (): boolean {
    return this.#socket.readyState === WebSocket.OPEN
  }

  get writableLength (): number {
    return this.#raw.writableLength
  }

  write (bytes: Buffer): void {
    this.#raw.write(bytes)
  }

  onceDrain (callback: () => void): void {
    this.#raw.once('drain', callback)
  }

  closeSlow (): void {
    this.#socket.close(SLOW_CONSUMER_CODE, SLOW_CONSUMER_REASON)
  }
}

/**
 * Lets go of the HTTP upgrade request and response once the socket is a
 * WebSocket. The net socket still points at the ServerResponse that
 * @fastify/websocket assigned to it (which points at the request), and the
 * plugin's 'error' listener closes over request and reply: together several
 * kilobytes per idle connection. The listener is replaced by one that keeps
 * the plugin's behaviour (the session logs, this terminates) without holding
 * the request, and without a closure per connection.
 */
export function releaseUpgrade (socket: WebSocket): void {
  const raw = (socket as unknown as { _socket?: Socket & { _httpMessage?: { detachSocket?: (s: Socket) => void } | null } })._socket
  const response = raw?._httpMessage
  if (raw !== undefined && response != null) {
    response.detachSocket?.(raw)
    raw._httpMessage = null
  }
  socket.removeAllListeners('error')
  socket.on('error', terminateOnError)
}

function terminateOnError (this: WebSocket): void {
  this.terminate()
}

/**
 * Holds back what is written to an upgrading socket, the 101 response first,
 * until `flushHandshake`. Admission decides after the upgrade (a browser can
 * only read a refusal as a close code), and in a cluster it waits for Redis:
 * without the hold the 101 leaves at once and the greeting or close frame
 * later, two writes per handshake; with it, one, and a client's `open` is
 * followed at once by its greeting. Called from ws's 'headers' event, just
 * before the 101 is written.
 */
export function holdHandshake (raw: Socket): void {
  raw.cork()
}

/**
 * Sends what `holdHandshake` held back, in one write: once the session has
 * greeted its client, or with the close frame of a refusal. The uncork
 * waits for the end of the tick, after the outbound queues have written the
 * frames of this tick (their flush was scheduled first). Safe on a socket
 * that was never held and when called twice: an uncork of a socket that is
 * not corked does nothing, and ws corks only within one synchronous send.
 */
export function flushHandshake (socket: WebSocket): void {
  const raw = (socket as unknown as { _socket?: Socket })._socket
  if (raw !== undefined && raw.writableCorked > 0) process.nextTick(uncork, raw)
}

function uncork (raw: Socket): void {
  if (raw.writableCorked > 0) raw.uncork()
}
