/**
 * Frames built for a single connection, such as the statistics greeting
 * whose connection counts were brought up to date for it. A transport sends
 * them as they are: compressing one would be per-connection work in the
 * handshake path, which the shared frames exist to avoid. A one-off frame is
 * sent once, so the bytes saved would not pay for the deflate.
 */
const oneOff = new WeakSet<Buffer>()

/** Marks `frame` as built for one connection, and returns it. */
export function markOneOff (frame: Buffer): Buffer {
  oneOff.add(frame)
  return frame
}

export function isOneOff (frame: Buffer): boolean {
  return oneOff.has(frame)
}
