import createError from '@fastify/error'

/**
 * Every HTTP error the service answers with its own code, status and a
 * message that tells the caller what to do.
 */
export const Errors = {
  MissingToken: createError('PUSH_MISSING_TOKEN', 'missing bearer token: send "Authorization: Bearer <JWT>"', 401),
  InvalidToken: createError('PUSH_INVALID_TOKEN', '%s', 401),
  ForbiddenCamera: createError('PUSH_FORBIDDEN_CAMERA', 'this token may not publish for camera %s: its cameras claim does not admit it; publish with a token whose cameras claim names it', 403),
  MissingRole: createError('PUSH_MISSING_ROLE', 'this endpoint needs the "%s" role in the token\'s roles claim', 403),
  NotFound: createError('PUSH_NOT_FOUND', 'no route %s %s; see the README for the API', 404),
  MethodNotAllowed: createError('PUSH_METHOD_NOT_ALLOWED', '%s is not allowed on %s; use %s', 405),
  NotWebSocket: createError('PUSH_NOT_WEBSOCKET', '%s does not speak WebSocket: connect WebSocket clients to %s, and send plain HTTP requests here', 400),
  DataTooDeep: createError('PUSH_DATA_TOO_DEEP', 'body.data is nested too deeply: at most %s levels of objects and arrays are allowed; flatten it', 400),
  InvalidTimestamp: createError('PUSH_INVALID_TIMESTAMP', '%s', 400),
  InvalidIdempotencyKey: createError('PUSH_INVALID_IDEMPOTENCY_KEY', 'the Idempotency-Key header must be 1 to %s visible ASCII characters (no spaces; send the header once), the same key for every retry of one publish', 400)
}
