import { readFileSync } from 'node:fs'
import t from 'tap'
import { backlogOf, HAVE_SS } from '../listen-backlog.js'
import { spawnInstance } from '../redis.js'

t.test('the service listens with LISTEN_BACKLOG as its accept queue', { skip: HAVE_SS ? false : 'needs ss (iproute2)' }, async t => {
  const service = await spawnInstance(t, { LISTEN_BACKLOG: '123' })
  t.equal(backlogOf(service.port), 123)
})

t.test('by default the queue holds 4096 connections (or net.core.somaxconn, if lower)', { skip: HAVE_SS ? false : 'needs ss (iproute2)' }, async t => {
  const service = await spawnInstance(t, {})
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'))
  t.equal(backlogOf(service.port), Math.min(4096, somaxconn))
})
