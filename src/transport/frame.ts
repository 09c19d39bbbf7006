/**
 * WebSocket framing (RFC 6455, section 5.2) for server-to-client text
 * frames: FIN set, opcode 1, never masked. The bytes are the ones `ws`
 * writes for `send(data, { binary: false })`, but built once per message
 * into one contiguous buffer, so a fan-out writes the same bytes to every
 * socket instead of framing per client. A compressed frame (RFC 7692) is
 * the same with RSV1 set and the deflated payload (see deflate.ts).
 */

/** Header length for a payload of `length` bytes. */
function headerLength (length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10
}

/**
 * Frames a UTF-8 JSON payload as one unmasked text frame (header + payload
 * in one buffer); `compressed`: the payload is permessage-deflate data, RSV1 set.
 */
export function frameText (payload: Buffer, compressed = false): Buffer {
  const length = payload.length
  const offset = headerLength(length)
  const frame = Buffer.allocUnsafe(offset + length)
  frame[0] = compressed ? 0xc1 : 0x81 // FIN (+ RSV1) + text
  if (length < 126) {
    frame[1] = length
  } else if (length < 65_536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    // Payloads stay far below 2^48 bytes: the high 16 bits are zero.
    frame.writeUInt16BE(0, 2)
    frame.writeUIntBE(length, 4, 6)
  }
  payload.copy(frame, offset)
  return frame
}
