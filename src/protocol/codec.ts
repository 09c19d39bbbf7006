import { Compile } from 'typebox/compile'
import { describeSchemaError, pickSchemaError, type SchemaError } from './schema-errors.js'
import { CLIENT_MESSAGES, type ClientMessage, type ErrorCode, type ServerMessage } from './messages.js'

/**
 * Parsing of client frames and encoding of server messages.
 * Parsing returns a result and never throws: a malformed frame is an answer
 * for the client, not an exception for the server.
 */

export type ParseResult =
  | { ok: true, message: ClientMessage }
  | { ok: false, code: ErrorCode, message: string }

const validators = Object.fromEntries(
  Object.entries(CLIENT_MESSAGES).map(([type, schema]) => [type, Compile(schema)])
) as Record<keyof typeof CLIENT_MESSAGES, ReturnType<typeof Compile>>

const KNOWN_TYPES = Object.keys(CLIENT_MESSAGES).join(', ')

/** Parses one client frame. */
export function parseClientMessage (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): ParseResult {
  if (isBinary) {
    return { ok: false, code: 'unsupported_data', message: 'binary frames are not supported; send JSON text frames' }
  }
  const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, code: 'invalid_json', message: 'the frame is not valid JSON; send one JSON object per text frame' }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, code: 'invalid_message', message: 'a message must be a JSON object with a "type" field' }
  }
  const type = (value as { type?: unknown }).type
  if (typeof type !== 'string') {
    return { ok: false, code: 'invalid_message', message: 'missing or non-string field "type"; use one of ' + KNOWN_TYPES }
  }
  if (!Object.hasOwn(validators, type)) {
    return { ok: false, code: 'unknown_type', message: `unknown message type ${JSON.stringify(type.slice(0, 64))}; use one of ${KNOWN_TYPES}` }
  }
  const validator = validators[type as keyof typeof validators]
  if (!validator.Check(value)) {
    const error = pickSchemaError(validator.Errors(value) as Iterable<SchemaError>)
    const detail = error === undefined ? 'it does not match the schema' : describeSchemaError(error, 'message')
    return { ok: false, code: 'invalid_message', message: `invalid "${type}" message: ${detail}` }
  }
  return { ok: true, message: value as ClientMessage }
}

/** Serializes a server message once, as the bytes of a UTF-8 JSON text frame. */
export function encode (message: ServerMessage): Buffer {
  return Buffer.from(JSON.stringify(message))
}

/** The current time as the protocol writes it: ISO-8601 in UTC. */
export function now (): string {
  return new Date().toISOString()
}
