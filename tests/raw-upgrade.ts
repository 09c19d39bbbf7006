import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { WS_PATH } from '../src/routes/ws-statistics.js'
import { token, type Test } from './helper.js'

/**
 * Sends an upgrade request for `user` on a bare TCP socket, so a test sees
 * exactly the bytes the service writes, and when. Resolves once it is sent.
 */
export async function sendUpgrade (t: Test, port: number, user: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  t.teardown(() => { socket.destroy() })
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write([
    `GET ${WS_PATH}?token=${token(user)} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    '', ''
  ].join('\r\n'))
  return socket
}

/** The first frame after the 101 response's headers: its opcode and payload. */
export function frameAfterHeaders (chunk: Buffer): { opcode: number, payload: Buffer } | null {
  const end = chunk.indexOf('\r\n\r\n')
  if (end === -1 || chunk.length < end + 6) return null
  const at = end + 4
  const opcode = chunk[at] & 0x0f
  let length = chunk[at + 1] & 0x7f
  let start = at + 2
  if (length === 126) { length = chunk.readUInt16BE(at + 2); start = at + 4 }
  return { opcode, payload: chunk.subarray(start, start + length) }
}
