import t from 'tap'
import { LocalSlotLimiter } from '../../src/backplane/slot-limiter.js'

t.test('the local slot limiter admits up to the limit per user, racing or not', async t => {
  const limiter = new LocalSlotLimiter(2)
  const results = await Promise.all(['a', 'b', 'c'].map(async id => await limiter.acquire('alice', id)))
  t.same(results, [{ ok: true }, { ok: true }, { ok: false, reason: 'connection_limit', limit: 2 }])
  t.same(await limiter.acquire('bob', 'd'), { ok: true }, 'another user has slots of their own')
  limiter.release('alice', 'a')
  limiter.release('alice', 'a')
  t.same(await limiter.acquire('alice', 'e'), { ok: true }, 'a released slot is free again, once')
  t.same(await limiter.acquire('alice', 'f'), { ok: false, reason: 'connection_limit', limit: 2 })
})
