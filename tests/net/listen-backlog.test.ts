import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { spawnInstance } from '../redis.js'

// `ss` (iproute2) reads a listening socket's backlog: its Send-Q column.
const HAVE_SS = spawnSync('ss', ['-V']).status === 0

/** The backlog of the socket listening on 127.0.0.1:port, as the kernel holds it. */
function backlogOf (port: number): number {
  const out = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).stdout
  const [, , sendQ] = out.trim().split(/\s+/)
  return Number(sendQ)
}

t.test('the service listens with LISTEN_BACKLOG as its accept queue', { skip: HAVE_SS ? false : 'needs ss (iproute2)' }, async t => {
  const service = await spawnInstance(t, { LISTEN_BACKLOG: '123' })
  t.equal(backlogOf(service.port), 123)
})

t.test('by default the queue holds 4096 connections (or net.core.somaxconn, if lower)', { skip: HAVE_SS ? false : 'needs ss (iproute2)' }, async t => {
  const service = await spawnInstance(t, {})
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'))
  t.equal(backlogOf(service.port), Math.min(4096, somaxconn))
})
