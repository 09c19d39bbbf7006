import { constants, deflateRawSync } from 'node:zlib'
import type { OutboundFrame } from '../hub/outbound-frame.js'
import { frameText } from './frame.js'

/** What every DEFLATE stream flushed with Z_SYNC_FLUSH ends with; RFC 7692 (7.2.1) has the sender strip it. */
const SYNC_TAIL_LENGTH = 4
const DEFLATE_OPTIONS = { finishFlush: constants.Z_SYNC_FLUSH }

/**
 * Compresses a message once for every socket that negotiated
 * permessage-deflate (RFC 7692), instead of once per socket as `ws` does.
 *
 * The server negotiates `server_no_context_takeover`: each message is
 * compressed on its own, with no window carried over from the previous one,
 * so the same compressed frame is valid on every connection and no socket
 * needs a zlib stream of its own. A message is deflated synchronously on
 * first use (tens of microseconds for a few kilobytes) and the framed result
 * is cached where the plain one is: on the shared OutboundFrame, or, for a
 * payload sent connection by connection (a resume replay, the first
 * statistics of a new connection), in a weak map keyed by the payload buffer,
 * which the bus and the snapshot frames already share.
 *
 * Payloads shorter than `minBytes` are sent plain (RSV1 clear), and so is
 * any payload that would not get smaller: for a short frame the saving is a
 * few bytes and the cost a zlib stream.
 */
export class FrameCompressor {
  readonly minBytes: number
  readonly #byPayload = new WeakMap<Buffer, Buffer | null>()
  /** Messages deflated and what they came to, for the metrics and the benchmark. */
  readonly stats = { messages: 0, plainBytes: 0, compressedBytes: 0 }

  constructor (minBytes: number) {
    this.minBytes = minBytes
  }

  /** The compressed wire bytes of a shared frame (each part of a combined one on its own); plain parts stay plain. */
  wireOf (frame: OutboundFrame, plainWire: (frame: OutboundFrame) => Buffer): Buffer {
    if (frame.compressedWire !== undefined) return frame.compressedWire
    if (frame.parts === null) return (frame.compressedWire = this.wireOfPayload(frame.payload) ?? plainWire(frame))
    return (frame.compressedWire = Buffer.concat(frame.parts.map(part => this.wireOf(part, plainWire))))
  }

  /** The compressed frame of a payload, built once per payload buffer; null when it goes plain. */
  wireOfPayload (payload: Buffer): Buffer | null {
    if (payload.length < this.minBytes) return null
    let wire = this.#byPayload.get(payload)
    if (wire === undefined) {
      wire = this.#compress(payload)
      this.#byPayload.set(payload, wire)
    }
    return wire
  }

  #compress (payload: Buffer): Buffer | null {
    const deflated = deflateRawSync(payload, DEFLATE_OPTIONS)
    const length = deflated.length - SYNC_TAIL_LENGTH
    if (length >= payload.length) return null
    this.stats.messages++
    this.stats.plainBytes += payload.length
    this.stats.compressedBytes += length
    return frameText(deflated.subarray(0, length), true)
  }
}
