import { once } from 'node:events'
import t, { type Test as TapTest } from 'tap'
import type { Config } from '../../src/config.js'
import { CloseCode } from '../../src/protocol/close-codes.js'
import { connect as connectClient, type Test } from '../helper.js'
import { frameAfterHeaders, sendUpgrade } from '../raw-upgrade.js'
import { BUSY_SCRIPT, NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

/** Sends an upgrade request on a bare TCP socket and resolves with the first bytes that come back. */
async function firstChunk (t: Test, port: number, user: string): Promise<Buffer> {
  const socket = await sendUpgrade(t, port, user)
  const [chunk] = await once(socket, 'data') as [Buffer]
  return chunk
}

/**
 * An instance on a real redis-server that is then kept busy for `busyMs`;
 * `user` sends its upgrade meanwhile. Resolves with the first bytes it reads
 * (checked to start with the 101) and the busy script's end.
 */
async function handshakeWhileBusy (t: TapTest, overrides: Partial<Config>, busyMs: number, user: string): Promise<{ chunk: Buffer, busy: Promise<unknown> }> {
  const redis = await RedisServer.start(t)
  const instance = await startInstance(t, redis, overrides)
  const admin = redis.client(t)
  // The instance is registered and its scripts are loaded before Redis gets busy.
  await connectClient(instance, t, 'warm')
  // Connected, so the script is written at once and reaches Redis before the
  // handshake's acquire (a command queued behind the connect could lose).
  await admin.ping()
  const busy = admin.eval(BUSY_SCRIPT, 0, busyMs)
  const chunk = await firstChunk(t, instance.port, user)
  t.match(chunk.toString('latin1'), /^HTTP\/1\.1 101 Switching Protocols\r\n/, 'the upgrade was accepted')
  return { chunk, busy }
}

t.test('while Redis answers the slot, the 101 waits and leaves with the greeting in one write', { skip: NEEDS_REDIS }, async t => {
  const { chunk, busy } = await handshakeWhileBusy(t, {}, 400, 'held')
  const frame = frameAfterHeaders(chunk)
  t.equal(frame?.opcode, 1, 'a text frame came in the same read as the 101')
  t.match(JSON.parse(frame?.payload.toString() ?? '{}'), { type: 'connection_status', status: 'connected' }, 'the greeting')
  await busy
})

t.test('a handshake refused while Redis is slow gets its 101 and its 1013 close frame together', { skip: NEEDS_REDIS }, async t => {
  const { chunk, busy } = await handshakeWhileBusy(t, { REDIS_ACQUIRE_TIMEOUT_MS: 100 }, 600, 'refused')
  const frame = frameAfterHeaders(chunk)
  t.equal(frame?.opcode, 8, 'a close frame came in the same read as the 101')
  t.equal(frame?.payload.readUInt16BE(0), CloseCode.TRY_AGAIN_LATER, 'with 1013: retry shortly')
  t.match(frame?.payload.subarray(2).toString(), /PUSH_BACKPLANE_BUSY/, 'and a reason that says what happened')
  await busy
})
