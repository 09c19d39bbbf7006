/**
 * A message encoded once for many connections. The hub builds one per
 * fan-out; a transport turns it into its wire form (for WebSocket, a frame
 * header plus the payload) the first time a connection writes it and caches
 * that on the object, so every other connection writes the very same bytes.
 */
export class OutboundFrame {
  /** The UTF-8 JSON payload of one message, or empty for a combined frame. */
  readonly payload: Buffer
  /**
   * A statistics snapshot: while it waits behind a slow socket, a newer
   * snapshot replaces it. Camera events and alerts are never superseded.
   */
  readonly supersedable: boolean
  /** Several frames written as one (consecutive messages due for the same clients). */
  readonly parts: readonly OutboundFrame[] | null
  /** The transport's wire bytes, computed once and shared by every connection. */
  wire: Buffer | undefined = undefined
  /** The same, compressed once for every connection that negotiated permessage-deflate. */
  compressedWire: Buffer | undefined = undefined

  constructor (payload: Buffer, supersedable = false, parts: readonly OutboundFrame[] | null = null) {
    this.payload = payload
    this.supersedable = supersedable
    this.parts = parts
  }

  /** One frame standing for `parts`, in order; never supersedable. */
  static combine (parts: readonly OutboundFrame[]): OutboundFrame {
    return new OutboundFrame(EMPTY, false, parts)
  }
}

const EMPTY = Buffer.alloc(0)
