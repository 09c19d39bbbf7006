import { CloseCode } from '../../src/protocol/close-codes.js'
import * as protocol from '../../src/protocol/messages.js'
import { CLIENT_MESSAGES, ERROR_CODES } from '../../src/protocol/messages.js'
import { WS_PATH } from '../../src/routes/ws-statistics.js'
import { packageVersion } from '../../src/docs/package-version.js'
import { CLOSE_CODE_NOTES, ERROR_CODE_NOTES, MESSAGE_NOTES } from './protocol-notes.js'

/**
 * The WebSocket protocol as an AsyncAPI 3.0 document (docs/asyncapi.json),
 * built from the TypeBox message schemas in src/protocol/messages.ts: every
 * exported object schema whose `type` is a constant is a message; those in
 * CLIENT_MESSAGES travel client → server, the rest server → client. Only
 * `npm run docs` and the tests import this module.
 */

export interface MessageSchema {
  readonly type: string
  readonly schema: Record<string, unknown>
  readonly direction: 'client' | 'server'
}

/** The constant `type` of an object schema, or undefined when it is not a message. */
export function messageTypeOf (value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const properties = (value as { properties?: Record<string, { const?: unknown }> }).properties
  const type = properties?.type?.const
  return typeof type === 'string' ? type : undefined
}

/** Every message schema of the protocol module, in the module's order, each once. */
export function protocolMessages (): MessageSchema[] {
  const clientSchemas = new Set<unknown>(Object.values(CLIENT_MESSAGES))
  const seen = new Set<string>()
  const messages: MessageSchema[] = []
  for (const value of Object.values(protocol)) {
    const type = messageTypeOf(value)
    if (type === undefined || seen.has(type)) continue
    seen.add(type)
    // A JSON copy: the document holds plain JSON, not TypeBox's objects.
    messages.push({ type, schema: JSON.parse(JSON.stringify(value)), direction: clientSchemas.has(value) ? 'client' : 'server' })
  }
  return messages
}

function notesOf (type: string): { summary: string, description?: string } {
  const notes = (MESSAGE_NOTES as Record<string, { summary: string, description?: string }>)[type]
  if (notes === undefined) throw new Error(`message type ${type} has no entry in scripts/docs/protocol-notes.ts MESSAGE_NOTES`)
  return notes
}

/** `camera_event` → `CameraEvent`: operation ids read as names. */
const pascal = (type: string): string => type.split('_').map(word => word[0].toUpperCase() + word.slice(1)).join('')

const DESCRIPTION = [
  'The statistics WebSocket: dashboards connect with a JWT, receive `connection_status` and `statistics_update` at once,',
  'subscribe to camera events, alerts and presence, and resume after a reconnect with the last `seq` they saw.',
  'Every frame is one JSON text frame. Operations are described from the service\'s side:',
  '`receive` is a message the client sends, `send` one the service sends.',
  'Close codes are listed in `x-close-codes` and the `code` of `error` messages in `x-error-codes`.'
].join('\n')

export function buildAsyncApi (): Record<string, unknown> {
  const messages = protocolMessages()
  const componentMessages: Record<string, unknown> = {}
  const channelMessages: Record<string, unknown> = {}
  const operations: Record<string, unknown> = {}
  for (const { type, schema, direction } of messages) {
    const notes = notesOf(type)
    componentMessages[type] = {
      name: type,
      title: type,
      summary: notes.summary,
      ...(notes.description === undefined ? {} : { description: notes.description }),
      contentType: 'application/json',
      payload: schema
    }
    channelMessages[type] = { $ref: `#/components/messages/${type}` }
    const action = direction === 'client' ? 'receive' : 'send'
    operations[`${action}${pascal(type)}`] = {
      action,
      channel: { $ref: '#/channels/statistics' },
      summary: notes.summary,
      messages: [{ $ref: `#/channels/statistics/messages/${type}` }]
    }
  }
  return {
    asyncapi: '3.0.0',
    info: { title: 'Statistics push service WebSocket', version: packageVersion(), description: DESCRIPTION },
    defaultContentType: 'application/json',
    channels: {
      statistics: {
        address: WS_PATH,
        title: 'Statistics, camera events and alerts',
        description: 'Connect with `?token=<JWT>` (or an Authorization header); add `&last_seq=N&stream=S` to resume. A refused connection is accepted and then closed with a close code (see x-close-codes).',
        messages: channelMessages,
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              properties: {
                token: { type: 'string', description: 'The JWT' },
                last_seq: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'Resume after this seq' },
                stream: { type: 'string', maxLength: 64, description: 'The `stream` of the `connected` status that last_seq came from' }
              }
            },
            bindingVersion: '0.1.0'
          }
        }
      }
    },
    operations,
    components: {
      messages: componentMessages,
      securitySchemes: {
        queryToken: { type: 'httpApiKey', name: 'token', in: 'query', description: 'The JWT in the query (browsers cannot set headers on a WebSocket)' },
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The JWT in an Authorization header (non-browser clients)' }
      }
    },
    'x-close-codes': Object.entries(CloseCode).map(([name, code]) => ({ code, name, description: CLOSE_CODE_NOTES[name as keyof typeof CloseCode] })),
    'x-error-codes': ERROR_CODES.map(code => ({ code, description: ERROR_CODE_NOTES[code] }))
  }
}
