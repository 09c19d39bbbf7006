/**
 * What both reference servers share with the service, so the benchmark
 * drives every target the same way: the same JWT check (HS256, the same
 * secret) and the same publish call (POST /api/events with a publisher
 * Bearer token, answered 202 {"seq"}).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createVerifier } from 'fast-jwt'

const secret = process.env.JWT_SECRET ?? 'development-secret-do-not-use-in-production'
const verify = createVerifier({ key: secret, algorithms: ['HS256'] })

export interface CameraEvent {
  type: 'camera_event'
  timestamp: string
  seq: number
  camera_id: string
  event_type: string
  data: unknown
}

/** The token's user and roles, or null when it does not verify. */
export function principal (token: unknown): { sub: string, roles: string[] } | null {
  if (typeof token !== 'string' || token === '') return null
  try {
    const payload = verify(token) as { sub?: unknown, roles?: unknown }
    if (typeof payload.sub !== 'string' || payload.sub === '') return null
    return { sub: payload.sub, roles: Array.isArray(payload.roles) ? payload.roles as string[] : [] }
  } catch {
    return null
  }
}

/** The POST /api/events handler: numbers each event and hands it to `fanOut`. */
export function publishHandler (fanOut: (message: CameraEvent) => void): (request: IncomingMessage, response: ServerResponse) => void {
  let seq = 0
  return function publish (request, response) {
    const auth = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')
    if (principal(auth?.[1])?.roles.includes('publisher') !== true) {
      response.writeHead(401).end()
      request.resume()
      return
    }
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      let body: { camera_id: string, event_type: string, data?: unknown }
      try {
        body = JSON.parse(Buffer.concat(chunks).toString())
      } catch {
        response.writeHead(400).end()
        return
      }
      const message: CameraEvent = { type: 'camera_event', timestamp: new Date().toISOString(), seq: ++seq, camera_id: body.camera_id, event_type: body.event_type, data: body.data ?? {} }
      fanOut(message)
      response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ seq: message.seq }))
    })
  }
}
