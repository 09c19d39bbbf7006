import { readFile } from 'node:fs/promises'
import t from 'tap'
import { documentText } from '../../src/docs/stable.js'
import { startServer } from '../helper.js'

/**
 * docs/openapi.json is what the running service serves at /docs/json, and
 * the document says enough to use each operation: summary, tag, security
 * where a token is needed, and error replies that carry `code`.
 */

const committed = async (): Promise<string> => await readFile(new URL('../../docs/openapi.json', import.meta.url), 'utf8')

interface Operation {
  summary?: string
  tags?: string[]
  security?: Array<Record<string, string[]>>
  responses: Record<string, { description?: string, content?: Record<string, { schema?: { $ref?: string } }> }>
}

t.test('the committed docs/openapi.json is the document the running service serves', async t => {
  const server = await startServer(t)
  const response = await fetch(`${server.url}/docs/json`)
  t.equal(response.status, 200)
  const served = documentText(await response.json())
  t.ok(served === await committed(), 'docs/openapi.json is stale: run `npm run docs` and commit it')
})

t.test('every operation has a summary, a tag, its security, and error replies with the coded error body', async t => {
  const server = await startServer(t)
  const doc = await (await fetch(`${server.url}/docs/json`)).json() as { paths: Record<string, Record<string, Operation>>, components: { schemas: Record<string, { properties: Record<string, unknown> }> } }
  t.ok(doc.components.schemas.ErrorReply.properties.code, 'the error body has a code')
  const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })))
  const names = operations.map(({ name }) => name)
  for (const expected of ['POST /api/events', 'POST /api/alerts', 'GET /api/statistics', 'GET /api/ws/status', 'GET /api/ws/statistics', 'GET /healthz', 'GET /readyz', 'GET /metrics']) {
    t.ok(names.includes(expected), `${expected} is documented`)
  }
  t.notOk(names.some(name => name.includes('/docs')), 'the docs routes document nothing but the API')
  for (const { name, op } of operations) {
    t.ok(op.summary !== undefined && op.summary !== '', `${name} has a summary`)
    t.equal(op.tags?.length, 1, `${name} has a tag`)
    for (const [status, reply] of Object.entries(op.responses)) {
      t.not(reply.description, 'Default Response', `${name} ${status} says what it means`)
      if (Number(status) >= 400 && !(name === 'GET /readyz' && status === '503')) {
        t.equal(reply.content?.['application/json']?.schema?.$ref, '#/components/schemas/ErrorReply', `${name} ${status} is the coded error body`)
      }
    }
  }
  for (const name of ['POST /api/events', 'POST /api/alerts', 'GET /api/statistics', 'GET /api/ws/status']) {
    const op = operations.find(operation => operation.name === name)!.op
    t.same(op.security, [{ bearerAuth: [] }], `${name} needs a bearer JWT`)
    t.ok(op.responses['401'], `${name} documents 401`)
  }
  const publish = operations.find(operation => operation.name === 'POST /api/events')!.op as Operation & { requestBody?: { content: Record<string, { schema: { required: string[] } }> } }
  t.same(publish.requestBody?.content['application/json'].schema.required, ['camera_id', 'event_type'], 'the request body is the validated schema')
})

t.test('the UI is served from this service, and API_DOCS=false turns /docs off', async t => {
  const on = await startServer(t)
  const page = await fetch(`${on.url}/docs`)
  t.equal(page.status, 200)
  const html = await page.text()
  t.notMatch(html, /<script>|<style>|https?:\/\//, 'no inline script or style, no other host')
  const script = /src="([^"]+swagger-ui-bundle\.js)"/.exec(html)?.[1]
  t.ok(script, 'the page loads the swagger-ui bundle')
  const bundle = await fetch(new URL(script!, `${on.url}/docs`))
  t.equal(bundle.status, 200, 'the bundle is served locally')
  t.match(page.headers.get('content-security-policy'), /script-src 'self';/, 'the strict CSP stays')

  const off = await startServer(t, { API_DOCS: false })
  t.equal((await fetch(`${off.url}/docs`)).status, 404)
  t.equal((await fetch(`${off.url}/docs/json`)).status, 404)
})
