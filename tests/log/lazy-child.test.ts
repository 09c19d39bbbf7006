import t from 'tap'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { lazyChild } from '../../src/log/lazy-child.js'
import { LogCapture } from '../helper.js'

/** A real pino logger writing JSON lines to a capture, counting the children it builds. */
function pinoAt (level: string): { parent: FastifyBaseLogger, lines: LogCapture, children: () => number } {
  const lines = new LogCapture()
  const logger = pino({ level, base: null, timestamp: false }, lines)
  let children = 0
  const child = logger.child.bind(logger)
  logger.child = ((...args: Parameters<typeof child>) => { children++; return child(...args) }) as typeof logger.child
  return { parent: logger as unknown as FastifyBaseLogger, lines, children: () => children }
}

t.test('a line carries the bindings, the object and the message', async t => {
  const { parent, lines } = pinoAt('info')
  const log = lazyChild(parent, { reqId: 'r1', userId: 'alice' })
  log.info({ closeCode: 1000 }, 'closed')
  t.same(lines.lines, [{ level: 30, reqId: 'r1', userId: 'alice', closeCode: 1000, msg: 'closed' }])
})

t.test('a message alone is logged as the message', async t => {
  const { parent, lines } = pinoAt('info')
  lazyChild(parent, { connectionId: 'c1' }).warn('slow')
  t.same(lines.lines, [{ level: 40, connectionId: 'c1', msg: 'slow' }])
})

t.test('each level goes to the same level of the parent', async t => {
  const { parent, lines } = pinoAt('info')
  const log = lazyChild(parent, {})
  log.info('i')
  log.warn('w')
  log.error('e')
  t.same(lines.lines.map(line => [line.level, line.msg]), [[30, 'i'], [40, 'w'], [50, 'e']])
})

t.test('no child logger is built until something is logged', async t => {
  const { parent, children } = pinoAt('info')
  const log = lazyChild(parent, { userId: 'alice' })
  t.equal(children(), 0)
  log.info('opened')
  t.equal(children(), 1)
})

t.test('a level the parent does not log builds nothing and writes nothing', async t => {
  const { parent, lines, children } = pinoAt('warn')
  const log = lazyChild(parent, { userId: 'alice' })
  log.info({ a: 1 }, 'opened')
  t.equal(children(), 0)
  t.equal(lines.lines.length, 0)
  log.error('failed')
  t.equal(lines.lines.length, 1)
})

t.test('a logger that cannot tell its level just gets the child', async t => {
  const calls: unknown[][] = []
  const plain = {
    child (bindings: Record<string, unknown>) {
      return { info: (...args: unknown[]) => calls.push(['info', bindings, ...args]) }
    }
  } as unknown as FastifyBaseLogger
  lazyChild(plain, { reqId: 'r2' }).info({ x: 1 }, 'hello')
  t.same(calls, [['info', { reqId: 'r2' }, { x: 1 }, 'hello']])
})
