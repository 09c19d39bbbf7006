import t from 'tap'
import { TokenSource } from '../../src/client/token.js'

t.test('refresh() takes getToken\'s token, sync or async', async t => {
  const sync = new TokenSource(undefined, () => 'a')
  t.equal(sync.current, undefined)
  t.equal(await sync.refresh(), null)
  t.equal(sync.current, 'a')
  const later = new TokenSource('old', async () => 'b')
  t.equal(await later.refresh(), null)
  t.equal(later.current, 'b')
})

t.test('refresh() says why there is no token, and keeps the old one', async t => {
  t.equal(await new TokenSource('x', undefined).refresh(), 'there is no getToken')
  const empty = new TokenSource('x', () => '')
  t.equal(await empty.refresh(), 'getToken() must return a non-empty string')
  t.equal(empty.current, 'x')
  t.equal(await new TokenSource('x', async () => { throw new Error('login expired') }).refresh(), 'login expired')
  t.equal(await new TokenSource('x', () => { throw 'plain' as unknown as Error }).refresh(), 'plain')
})

t.test('a refused token may be replaced once until a connection accepts one', async t => {
  const tokens = new TokenSource('x', () => 'y')
  t.equal(tokens.renewable, true)
  t.equal(tokens.mayReplaceRefused(), true)
  t.equal(tokens.mayReplaceRefused(), false, 'a second refusal in a row is final')
  tokens.accepted()
  t.equal(tokens.mayReplaceRefused(), true)
  const fixed = new TokenSource('x', undefined)
  t.equal(fixed.renewable, false)
  t.equal(fixed.mayReplaceRefused(), false, 'without getToken nothing can replace it')
})

t.test('renew() gives a fresh token, or null without a word when getToken fails', async t => {
  const tokens = new TokenSource('x', async () => 'fresh')
  t.equal(await tokens.renew(), 'fresh')
  t.equal(tokens.current, 'fresh')
  t.equal(await new TokenSource('x', undefined).renew(), null)
  t.equal(await new TokenSource('x', () => '').renew(), null)
  const failing = new TokenSource('x', async () => { throw new Error('down') })
  t.equal(await failing.renew(), null)
  t.equal(failing.current, 'x')
})
