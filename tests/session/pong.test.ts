import t from 'tap'
import { Compile } from 'typebox/compile'
import { PongMessage } from '../../src/protocol/messages.js'
import { connect, startServer } from '../helper.js'

/**
 * `pong.echo` is the ping's `timestamp`; a ping without one gets a pong
 * without `echo` (not `echo: null`), and the schema says exactly that.
 */

const pong = Compile(PongMessage)

t.test('a ping without a timestamp: a pong without echo', async t => {
  const server = await startServer(t)
  const client = await connect(server, t)
  client.send({ type: 'ping' })
  const answer = await client.nextOfType('pong')
  t.notOk('echo' in answer, 'no echo field')
  t.ok(pong.Check(answer), 'matches the schema')
})

t.test('a ping with a timestamp: echo is that timestamp', async t => {
  const server = await startServer(t)
  const client = await connect(server, t)
  client.send({ type: 'ping', timestamp: 'client-1' })
  const answer = await client.nextOfType('pong')
  t.equal(answer.echo, 'client-1')
  t.ok(pong.Check(answer), 'matches the schema')
})

t.test('the schema refuses echo: null', async t => {
  t.notOk(pong.Check({ type: 'pong', timestamp: new Date().toISOString(), echo: null }))
})
