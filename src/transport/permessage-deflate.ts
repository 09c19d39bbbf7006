import { constants, deflateRawSync, inflateRawSync } from 'node:zlib'
import * as ws from 'ws'
import type WebSocket from 'ws'
import type { FrameCompressor } from './deflate.js'

const EXTENSION = 'permessage-deflate'
/** RFC 7692 (7.2.2): the receiver appends what the sender stripped. */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff])
const EMPTY = Buffer.alloc(0)
const INVALID_DATA = 1007

/**
 * The options `ws` negotiates permessage-deflate with. Every offer a client
 * can make is accepted; the response always says `server_no_context_takeover`
 * (each server message compressed on its own, so one compressed frame fits
 * every socket) and `client_no_context_takeover` (RFC 7692 lets the server
 * require it: each client message can then be inflated on its own, without
 * a zlib stream kept per socket). The threshold keeps ws's own compressor
 * idle: the service never compresses through `ws`, see FrameCompressor.
 */
export const NEGOTIATION = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  threshold: Number.MAX_SAFE_INTEGER
}

/** The error property ws reads a close code from (a private symbol: found once on an error ws makes). */
const kStatusCode: symbol | undefined = (() => {
  const Receiver = (ws as unknown as { Receiver: new () => { createError: (ctor: ErrorConstructor, message: string, prefix: boolean, code: number, errorCode: string) => Error } }).Receiver
  const receiver = new Receiver()
  const probe = receiver.createError(Error, '', false, INVALID_DATA, '')
  return Object.getOwnPropertySymbols(probe).find(symbol => symbol.description === 'status-code')
})()

interface Negotiated { params: Record<string, unknown> }

/**
 * Stands in for ws's PerMessageDeflate on one socket, once the handshake
 * negotiated it. ws's own keeps an inflate stream per socket from its first
 * compressed message on (a zlib context and a 32 KB window: tens of
 * kilobytes on every browser connection, as browsers compress everything
 * they send); this one inflates each message in one call and keeps nothing
 * but the fragments of a message still arriving.
 *
 * The decompressed size is capped at `maxPayload` (MAX_INBOUND_MESSAGE_BYTES)
 * while inflating: zlib stops one output chunk past it, so a deflate bomb
 * costs a few kilobytes, and the receiver closes the socket with 1009 as for
 * any message over the limit. Data that does not inflate closes it with 1007.
 */
class SharedDeflate {
  readonly params: Record<string, unknown>
  /** Read by ws's Sender: nothing sent through ws is ever compressed. */
  readonly _threshold = Number.MAX_SAFE_INTEGER
  readonly _isServer = true
  /** Non-null when outgoing messages may use the shared compressed frames. */
  readonly compressor: FrameCompressor | null
  readonly #maxPayload: number
  #fragments: Buffer[] | null = null

  constructor (params: Record<string, unknown>, compressor: FrameCompressor | null, maxPayload: number) {
    this.params = params
    this.compressor = compressor
    this.#maxPayload = maxPayload
  }

  decompress (data: Buffer, fin: boolean, callback: (err: Error | null, result?: Buffer) => void): void {
    if (!fin) {
      // The receiver caps the compressed bytes of a message at maxPayload too.
      (this.#fragments ??= []).push(data)
      process.nextTick(callback, null, EMPTY)
      return
    }
    const parts = this.#fragments ?? []
    this.#fragments = null
    // Asynchronously, as ws's own does: its receiver must not re-enter.
    process.nextTick(this.#inflate.bind(this), Buffer.concat([...parts, data, TRAILER]), callback)
  }

  #inflate (input: Buffer, callback: (err: Error | null, result?: Buffer) => void): void {
    let output: Buffer
    try {
      output = inflateRawSync(input, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: this.#maxPayload + 1 })
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        // One byte over the limit: the receiver refuses it with 1009.
        callback(null, Buffer.alloc(this.#maxPayload + 1))
        return
      }
      const error = new Error(`Invalid WebSocket frame: compressed message does not inflate (${(err as Error).message}); a client must compress each message on its own (client_no_context_takeover)`)
      if (kStatusCode !== undefined) Object.defineProperty(error, kStatusCode, { value: INVALID_DATA })
      callback(error)
      return
    }
    callback(null, output)
  }

  /** Only if something sent through ws asked for compression (nothing does): a message on its own. */
  compress (data: Buffer, fin: boolean, callback: (err: Error | null, result?: Buffer) => void): void {
    const deflated = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH })
    process.nextTick(callback, null, fin ? deflated.subarray(0, deflated.length - TRAILER.length) : deflated)
  }

  cleanup (): void {
    this.#fragments = null
  }
}

/**
 * Replaces ws's permessage-deflate on a socket that negotiated it (call it
 * from the server's 'connection' event, before any data is read). The
 * socket gets the shared compressed frames unless the client limited the
 * server's window (`server_max_window_bits` below 15): it gets plain frames
 * then, which permessage-deflate always allows.
 */
export function adoptDeflate (socket: WebSocket, compressor: FrameCompressor, maxPayload: number): void {
  const extensions = (socket as unknown as { _extensions: Record<string, Negotiated | undefined> })._extensions
  const negotiated = extensions[EXTENSION]
  if (negotiated === undefined) return
  const windowBits = negotiated.params.server_max_window_bits
  const fullWindow = typeof windowBits !== 'number' || windowBits === 15
  extensions[EXTENSION] = new SharedDeflate(negotiated.params, fullWindow ? compressor : null, maxPayload)
}

/** The compressor whose frames this socket takes, or null for plain frames. */
export function compressorOf (socket: WebSocket): FrameCompressor | null {
  const extension = (socket as unknown as { _extensions?: Record<string, unknown> })._extensions?.[EXTENSION]
  return extension instanceof SharedDeflate ? extension.compressor : null
}
