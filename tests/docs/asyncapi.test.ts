import { readdir, readFile } from 'node:fs/promises'
import t from 'tap'
import { generateAsyncApi } from '../../scripts/docs.js'
import { messageTypeOf } from '../../scripts/docs/asyncapi.js'
import { CloseCode } from '../../src/protocol/close-codes.js'
import { ERROR_CODES } from '../../src/protocol/messages.js'

/**
 * docs/asyncapi.json is generated from the protocol's TypeBox schemas, and
 * a message added to src/protocol without regenerating it fails here.
 */

interface AsyncApi {
  asyncapi: string
  channels: Record<string, { address: string, messages: Record<string, { $ref: string }> }>
  operations: Record<string, { action: string, channel: { $ref: string }, messages: Array<{ $ref: string }> }>
  components: { messages: Record<string, { payload: unknown }> }
  'x-close-codes': Array<{ code: number, name: string, description: string }>
  'x-error-codes': Array<{ code: string, description: string }>
}

const docsUrl = new URL('../../docs/asyncapi.json', import.meta.url)
const committedText = async (): Promise<string> => await readFile(docsUrl, 'utf8')
const committed = async (): Promise<AsyncApi> => JSON.parse(await committedText()) as AsyncApi

/** Every exported message schema (an object whose `type` is a constant) of every src/protocol module. */
async function protocolSchemas (): Promise<Map<string, unknown>> {
  const dir = new URL('../../src/protocol/', import.meta.url)
  const schemas = new Map<string, unknown>()
  for (const file of (await readdir(dir)).filter(name => name.endsWith('.ts'))) {
    const module = await import(new URL(file, dir).href) as Record<string, unknown>
    for (const value of Object.values(module)) {
      const type = messageTypeOf(value)
      if (type !== undefined) schemas.set(type, JSON.parse(JSON.stringify(value)))
    }
  }
  return schemas
}

/** Follows a local `#/a/b` reference in the document. */
function resolve (doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined
  return ref.slice(2).split('/').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc)
}

t.test('the committed docs/asyncapi.json is what `npm run docs` generates', async t => {
  t.ok(generateAsyncApi() === await committedText(), 'docs/asyncapi.json is stale: run `npm run docs` and commit it')
})

t.test('every message schema in src/protocol is in the document, with the same payload', async t => {
  const doc = await committed()
  const schemas = await protocolSchemas()
  t.ok(schemas.size >= 16, `found the protocol's messages (${schemas.size})`)
  for (const [type, schema] of schemas) {
    t.same(doc.components.messages[type]?.payload, schema, `${type} is documented with its schema`)
    t.ok(doc.channels.statistics.messages[type], `${type} is on the channel`)
  }
  t.same(Object.keys(doc.components.messages).sort(), [...schemas.keys()].sort(), 'and no other message')
})

t.test('client messages are received and server messages sent, every reference resolves', async t => {
  const doc = await committed()
  t.equal(doc.asyncapi, '3.0.0')
  t.equal(doc.channels.statistics.address, '/api/ws/statistics')
  const actions = new Map<string, string>()
  for (const [id, operation] of Object.entries(doc.operations)) {
    t.ok(resolve(doc, operation.channel.$ref), `${id}: its channel exists`)
    for (const message of operation.messages) {
      t.ok(resolve(doc, message.$ref), `${id}: ${message.$ref} exists`)
      actions.set(message.$ref.split('/').pop()!, operation.action)
    }
  }
  for (const [type, message] of Object.entries(doc.channels.statistics.messages)) {
    t.ok(resolve(doc, message.$ref), `channel message ${type} resolves`)
  }
  for (const type of ['ping', 'subscribe', 'unsubscribe', 'resume', 'auth', 'get_online_users']) t.equal(actions.get(type), 'receive', `${type} comes from the client`)
  for (const type of ['connection_status', 'statistics_update', 'camera_event', 'alert', 'pong', 'error', 'presence']) t.equal(actions.get(type), 'send', `${type} comes from the service`)
})

t.test('every close code and error code is listed with what it means', async t => {
  const doc = await committed()
  t.same(doc['x-close-codes'].map(entry => entry.code), Object.values(CloseCode))
  t.same(doc['x-error-codes'].map(entry => entry.code), [...ERROR_CODES])
  for (const entry of [...doc['x-close-codes'], ...doc['x-error-codes']]) t.ok(entry.description.length > 10, `${entry.code} is explained`)
})
