/**
 * A WebSocket client on a bare TCP socket, for tests that must see the
 * frames themselves: whether RSV1 (permessage-deflate) is set on each, and
 * what a client may put on the wire that `ws` would never send (a deflate
 * bomb, data that does not inflate).
 */
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib'
import type { Test } from '../helper.js'

export interface RawFrame {
  compressed: boolean
  opcode: number
  /** The payload as the application sees it (inflated when compressed). */
  text: string
}

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff])

export class RawClient {
  readonly socket: Socket
  /** The handshake response's Sec-WebSocket-Extensions header ('' when absent). */
  extensions = ''
  readonly frames: RawFrame[] = []
  closeCode: number | null = null
  #buffer = Buffer.alloc(0)
  #upgraded = false

  private constructor (socket: Socket) {
    this.socket = socket
    socket.on('data', chunk => { this.#read(chunk) })
    socket.on('error', () => {})
  }

  /** Opens `path` (with its query) on the port, offering permessage-deflate unless `offer` is ''. */
  static async open (t: Test, port: number, path: string, offer = 'permessage-deflate; client_max_window_bits'): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1')
    t.teardown(() => { socket.destroy() })
    await once(socket, 'connect')
    const client = new RawClient(socket)
    socket.write([
      `GET ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      ...(offer === '' ? [] : [`Sec-WebSocket-Extensions: ${offer}`]),
      '', ''
    ].join('\r\n'))
    return client
  }

  /** Messages received so far, parsed. */
  get messages (): Array<Record<string, unknown>> {
    return this.frames.filter(frame => frame.opcode === 1).map(frame => JSON.parse(frame.text) as Record<string, unknown>)
  }

  /** Sends one masked text frame; `compressed` deflates it (or `raw` is sent as the compressed payload as it is). */
  send (text: string, options: { compressed?: boolean, raw?: Buffer } = {}): void {
    let payload: Buffer = Buffer.from(text)
    const compressed = options.compressed === true || options.raw !== undefined
    if (options.raw !== undefined) payload = options.raw
    else if (compressed) {
      const deflated = deflateRawSync(payload, { finishFlush: constants.Z_SYNC_FLUSH })
      payload = deflated.subarray(0, deflated.length - 4)
    }
    const mask = Buffer.from([1, 2, 3, 4])
    const length = payload.length
    const header = length < 126 ? Buffer.from([0, 0x80 | length]) : Buffer.from([0, 0x80 | 126, length >> 8, length & 0xff])
    if (length >= 65_536) throw new Error('RawClient sends frames under 64 KB')
    header[0] = compressed ? 0xc1 : 0x81
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]))
    this.socket.write(Buffer.concat([header, mask, masked]))
  }

  #read (chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk])
    if (!this.#upgraded) {
      const end = this.#buffer.indexOf('\r\n\r\n')
      if (end === -1) return
      const head = this.#buffer.subarray(0, end).toString()
      if (!head.startsWith('HTTP/1.1 101')) throw new Error(`handshake refused: ${head}`)
      this.extensions = /^sec-websocket-extensions: (.*)$/im.exec(head)?.[1] ?? ''
      this.#upgraded = true
      this.#buffer = this.#buffer.subarray(end + 4)
    }
    for (;;) {
      if (this.#buffer.length < 2) return
      const first = this.#buffer[0]
      let length = this.#buffer[1] & 0x7f
      let offset = 2
      if (length === 126) {
        if (this.#buffer.length < 4) return
        length = this.#buffer.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (this.#buffer.length < 10) return
        length = Number(this.#buffer.readBigUInt64BE(2))
        offset = 10
      }
      if (this.#buffer.length < offset + length) return
      const payload = this.#buffer.subarray(offset, offset + length)
      this.#buffer = this.#buffer.subarray(offset + length)
      const compressed = (first & 0x40) !== 0
      const opcode = first & 0x0f
      if (opcode === 8) this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
      const data = compressed ? inflateRawSync(Buffer.concat([payload, TRAILER]), { finishFlush: constants.Z_SYNC_FLUSH }) : payload
      this.frames.push({ compressed, opcode, text: data.toString() })
    }
  }
}
