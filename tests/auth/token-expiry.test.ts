import t from 'tap'
import { TokenExpiry, type TokenExpiryOptions } from '../../src/auth/token-expiry.js'

/** A wheel on a hand-driven clock, recording what it fires. */
function wheelAt (start: number, options: Partial<TokenExpiryOptions> = {}): { wheel: TokenExpiry, events: string[], advance: (to: number) => void, jump: (to: number) => void } {
  let clock = start
  const events: string[] = []
  const wheel = new TokenExpiry({
    warningMs: 1000,
    skewMs: 500,
    resolutionMs: 100,
    now: () => clock,
    onWarn: (id, at) => events.push(`warn ${id} ${at}`),
    onExpire: id => events.push(`expire ${id}`),
    ...options
  })
  const advance = (to: number): void => { while (clock < to) { clock += 100; wheel.tick() } }
  const jump = (to: number): void => { clock = to; wheel.tick() }
  return { wheel, events, advance, jump }
}

t.test('the wheel warns before expiry, expires after the skew, and follows refreshes', async t => {
  let clock = 10_000
  const events: string[] = []
  const wheel = new TokenExpiry({
    warningMs: 1000,
    skewMs: 500,
    resolutionMs: 100,
    now: () => clock,
    onWarn: (id, at) => events.push(`warn ${id} ${at}`),
    onExpire: id => events.push(`expire ${id}`)
  })
  wheel.track('a', 13_000)
  wheel.track('b', 20_000)
  wheel.track('c', null)
  const advance = (to: number): void => { while (clock < to) { clock += 100; wheel.tick() } }
  advance(11_900)
  t.same(events, [], 'nothing before the warning time')
  advance(12_000)
  t.same(events, ['warn a 13000'])
  advance(13_400)
  t.same(events, ['warn a 13000'], 'not expired within the skew')
  wheel.track('a', 16_000) // refreshed
  advance(14_900)
  t.same(events, ['warn a 13000'], 'the old expiry no longer applies')
  advance(15_000)
  t.same(events, ['warn a 13000', 'warn a 16000'])
  advance(16_500)
  t.same(events, ['warn a 13000', 'warn a 16000', 'expire a'])
  wheel.untrack('b')
  advance(30_000)
  t.equal(events.length, 3, 'an untracked connection fires nothing')
  t.equal(wheel.size, 0)
})

t.test('with warningMs 0 the wheel never warns and only expires', async t => {
  const { wheel, events, advance } = wheelAt(0, { warningMs: 0 })
  wheel.track('a', 1000)
  advance(1400)
  t.same(events, [])
  advance(1500)
  t.same(events, ['expire a'])
})

t.test('a token already past its warning time is warned on the next tick, then expired after the skew', async t => {
  const { wheel, events, advance } = wheelAt(10_000)
  wheel.track('a', 10_300)
  t.same(events, [], 'nothing fires inside track')
  advance(10_100)
  t.same(events, ['warn a 10300'])
  advance(10_700)
  t.same(events, ['warn a 10300'])
  advance(10_800)
  t.same(events, ['warn a 10300', 'expire a'])
})

t.test('a refresh to an earlier expiry fires at the earlier time, and only once', async t => {
  const { wheel, events, advance } = wheelAt(0)
  wheel.track('a', 50_000)
  wheel.track('a', 5000)
  advance(60_000)
  t.same(events, ['warn a 5000', 'expire a'])
})

t.test('a refresh after the warning warns again before the new expiry', async t => {
  const { wheel, events, advance } = wheelAt(0)
  wheel.track('a', 2000)
  advance(1000)
  t.same(events, ['warn a 2000'])
  wheel.track('a', 2000)
  advance(1100)
  t.same(events, ['warn a 2000', 'warn a 2000'], 'the refreshed token is announced anew')
})

t.test('a tick after a long pause fires everything that came due, in time order', async t => {
  const { wheel, events, jump } = wheelAt(0)
  wheel.track('late', 4000)
  wheel.track('early', 2000)
  jump(10_000)
  // early: warned at 1000, expired at 2500; late: warned at 3000, expired at 4500.
  t.same(events, ['warn early 2000', 'expire early', 'warn late 4000', 'expire late'])
  t.equal(wheel.size, 0)
})

t.test('tracking null, untracking twice and untracking an unknown id are harmless', async t => {
  const { wheel, events, advance } = wheelAt(0)
  wheel.track('a', 2000)
  wheel.track('a', null)
  t.equal(wheel.size, 0, 'a null expiry forgets the connection')
  wheel.untrack('a')
  wheel.untrack('nobody')
  advance(5000)
  t.same(events, [])
})

t.test('a warning that throws is reported, the others still fire, and the expiry still comes', async t => {
  const errors: string[] = []
  const { wheel, events, advance } = wheelAt(0, {
    onWarn: (id, at) => { if (id === 'bad') throw new Error('send failed'); events.push(`warn ${id} ${at}`) },
    onError: (id, err) => errors.push(`${id}: ${(err as Error).message}`)
  })
  wheel.track('bad', 2000)
  wheel.track('good', 2000)
  advance(3000)
  t.same(errors, ['bad: send failed'])
  t.same(events, ['warn good 2000', 'expire bad', 'expire good'])
})

t.test('an expiry that throws is reported and the connection is forgotten', async t => {
  const errors: string[] = []
  const { wheel, advance } = wheelAt(0, {
    warningMs: 0,
    onExpire: () => { throw new Error('close failed') },
    onError: id => errors.push(id)
  })
  wheel.track('a', 1000)
  advance(3000)
  t.same(errors, ['a'], 'reported once')
  t.equal(wheel.size, 0)
})

t.test('without onError a throw leaves tick', async t => {
  const { wheel, advance } = wheelAt(0, { warningMs: 0, onExpire: () => { throw new Error('boom') } })
  wheel.track('a', 1000)
  t.throws(() => { advance(3000) }, /boom/)
})

t.test('started, the wheel fires on its own timer', async t => {
  let expired!: (id: string) => void
  const fired = new Promise<string>(resolve => { expired = resolve })
  const wheel = new TokenExpiry({ warningMs: 0, skewMs: 0, resolutionMs: 10, onWarn: () => {}, onExpire: id => { expired(id) } })
  // The wheel's interval is unref'd: something must keep this process alive meanwhile.
  const keepAlive = setInterval(() => {}, 1000)
  wheel.start()
  wheel.start()
  t.teardown(() => { wheel.stop(); clearInterval(keepAlive) })
  wheel.track('a', Date.now() + 20)
  t.equal(await fired, 'a')
  t.equal(wheel.size, 0)
})
