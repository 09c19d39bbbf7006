import t from 'tap'
import { redact, redactingLogMethod, serializeRequest } from '../../src/log/redact.js'

const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlc2lnbmF0dXJl'

t.test('redacts token query parameters, bearer headers and JWTs', async t => {
  t.equal(redact(`/api/ws/statistics?token=${jwt}&x=1`), '/api/ws/statistics?token=[REDACTED]&x=1')
  t.equal(redact('/a?x=1&access_token=abc'), '/a?x=1&access_token=[REDACTED]')
  t.equal(redact('Authorization: Bearer abc.def'), 'Authorization: Bearer [REDACTED]')
  t.equal(redact(`route GET:/x/${jwt} not found`), 'route GET:/x/[REDACTED] not found')
  t.equal(redact('/api/statistics?page=2'), '/api/statistics?page=2')
})

t.test('the log hook scrubs strings and plain objects, and leaves other objects to their serializers', async t => {
  const request = new (class Request { url = `/x?token=${jwt}` })()
  let seen: unknown[] = []
  redactingLogMethod.call(null, [{ path: `/x?token=${jwt}`, req: request, err: new Error(`bad ${jwt}`) }, `msg ${jwt}`], (...args: unknown[]) => { seen = args })
  const [obj, msg] = seen as [Record<string, unknown>, string]
  t.equal(msg, 'msg [REDACTED]')
  t.equal(obj.path, '/x?token=[REDACTED]')
  t.equal(obj.req, request, 'non-plain objects pass through untouched')
  t.match((obj.err as Error).message, 'bad [REDACTED]')
  t.type(obj.err, Error)
  t.equal(serializeRequest({ method: 'GET', url: `/x?token=${jwt}` }).url, '/x?token=[REDACTED]')
})

t.test('redacts what the query parser sees: encoded names, encoded dots, fully encoded tokens, malformed escapes', async t => {
  const dotted = jwt.replace(/\./g, '%2E')
  const every = [...jwt].map(c => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')
  t.equal(redact(`/ws?%74oken=${dotted}&x=1`), '/ws?%74oken=[REDACTED]&x=1', 'encoded name, encoded dots')
  t.equal(redact('/ws?to%6Ben=abc'), '/ws?to%6Ben=[REDACTED]', 'an encoded name with a value that is no JWT')
  t.equal(redact('/ws?%61ccess%5Ftoken=abc&x=1'), '/ws?%61ccess%5Ftoken=[REDACTED]&x=1')
  t.equal(redact('/ws?TOKEN=abc'), '/ws?TOKEN=[REDACTED]')
  t.equal(redact(`/ws?x=${dotted}`), '/ws?x=[REDACTED]', 'a JWT with encoded dots under any name')
  t.equal(redact(`/ws?x=${every}&y=2`), '/ws?x=[REDACTED]&y=2', 'a JWT with every character encoded')
  t.equal(redact(`/api/x/${dotted}%ZZ`), '/api/x/[REDACTED]', 'a malformed escape next to it does not hide it')
  t.equal(redact('/ws?%74oken%ZZ=abc'), '/ws?%74oken%ZZ=abc', 'a name no parser reads as token is kept')
  t.equal(redact('/ws?token=abc#frag&x=1'), '/ws?token=[REDACTED]&x=1', 'a raw # is part of the value the parser reads')
  t.equal(redact('/ws?q=100%25&name=J%C3%BCrgen'), '/ws?q=100%25&name=J%C3%BCrgen', 'ordinary encoded values stay')
  t.equal(serializeRequest({ method: 'GET', url: `/api/ws/statistics?%74oken=${dotted}` }).url, '/api/ws/statistics?%74oken=[REDACTED]')
})

t.test('a logged object keeps a "__proto__" key as a key', async t => {
  let seen: unknown[] = []
  redactingLogMethod.call(null, [JSON.parse('{"__proto__":{"polluted":true},"x":1}'), 'msg'], (...args: unknown[]) => { seen = args })
  const obj = seen[0] as Record<string, unknown>
  t.ok(Object.hasOwn(obj, '__proto__'), 'the key is kept')
  t.equal(Object.getPrototypeOf(obj), Object.prototype, 'the copy\'s prototype is untouched')
  t.equal((obj as { polluted?: boolean }).polluted, undefined)
})
