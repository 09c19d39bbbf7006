import createError from '@fastify/error'

/**
 * Every HTTP error the service answers with its own code, status and a
 * message that tells the caller what to do.
 */
export const Errors = {
  MissingToken: createError('PUSH_MISSING_TOKEN', 'missing bearer token: send "Authorization: Bearer <JWT>"', 401),
  InvalidToken: createError('PUSH_INVALID_TOKEN', '%s', 401),
  MissingRole: createError('PUSH_MISSING_ROLE', 'this endpoint needs the "%s" role in the token\'s roles claim', 403),
  NotFound: createError('PUSH_NOT_FOUND', 'no route %s %s; see the README for the API', 404),
  NotWebSocket: createError('PUSH_NOT_WEBSOCKET', '%s does not speak WebSocket: connect WebSocket clients to %s, and send plain HTTP requests here', 400)
}
