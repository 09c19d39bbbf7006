import t from 'tap'
import { MessageRateLimiter } from '../../src/session/message-rate-limiter.js'

t.test('allows up to the limit per one-second window, then refuses until the next window', async t => {
  const limiter = new MessageRateLimiter(3)
  t.same([1000, 1100, 1200, 1300].map(at => limiter.allow(at)), [true, true, true, false])
  t.ok(limiter.allow(2000), 'a new window starts a second after the previous one began')
})

t.test('a limit of 0 never refuses', async t => {
  const limiter = new MessageRateLimiter(0)
  t.ok(Array.from({ length: 1000 }, () => limiter.allow(5)).every(Boolean))
})
