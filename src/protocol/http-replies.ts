import { Type, type TSchema } from 'typebox'

/**
 * The HTTP error body and the security requirement of route schemas, read
 * by the OpenAPI document at /docs. The error body is also the serializer
 * of error replies, so it lists exactly the fields the error handler writes.
 */

/** A user's JWT in `Authorization: Bearer <JWT>` (HS256 with JWT_SECRET, or RS256/ES256 with JWT_PUBLIC_KEY). */
export const BEARER = [{ bearerAuth: [] }]

/** The code says what went wrong in a form a program can test; the message tells a person what to do. */
export const ErrorReply = Type.Object({
  statusCode: Type.Integer({ description: 'The HTTP status, repeated' }),
  code: Type.String({ description: 'A stable error code, such as PUSH_INVALID_TOKEN or FST_ERR_VALIDATION' }),
  error: Type.String({ description: 'The HTTP status text' }),
  message: Type.String({ description: 'What is wrong and how to fix it' })
}, { $id: 'ErrorReply', title: 'Error' })

/** An error reply for the document, with the codes this route can answer with. */
export function errorReply (description: string, codes: readonly string[] = []): TSchema {
  const text = codes.length === 0 ? description : `${description}. Codes: ${codes.join(', ')}`
  return Type.Unsafe({ $ref: 'ErrorReply#', description: text })
}

/** The replies every authenticated route can give before its handler runs. */
export function authErrors (): Record<number, TSchema> {
  return {
    401: errorReply('No token, or a token that is malformed, expired or badly signed', ['PUSH_MISSING_TOKEN', 'PUSH_INVALID_TOKEN']),
    429: errorReply('Too many requests from this address (HTTP_RATE_LIMIT_PER_MINUTE)')
  }
}
