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
