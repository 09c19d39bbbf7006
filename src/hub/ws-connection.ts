import WebSocket from 'ws'
import type { Connection } from './connection-hub.js'

// One options object for every send: the frames are JSON text, already
// encoded to UTF-8 bytes once per broadcast.
const TEXT = { binary: false } as const

/** A `ws` socket seen through the hub's Connection interface. */
export class WsConnection implements Connection {
  readonly id: string
  readonly userId: string
  readonly #socket: WebSocket

  constructor (id: string, userId: string, socket: WebSocket) {
    this.id = id
    this.userId = userId
    this.#socket = socket
  }

  send (frame: Buffer): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(frame, TEXT)
  }

  close (code: number, reason: string): void {
    this.#socket.close(code, reason)
  }

  terminate (): void {
    this.#socket.terminate()
  }

  ping (): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.ping()
  }

  get bufferedAmount (): number {
    return this.#socket.bufferedAmount
  }
}
