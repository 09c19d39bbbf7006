/** Where the service listens, relative to its base URL. */
export const WS_PATH = '/api/ws/statistics'
export const STATISTICS_PATH = '/api/statistics'

/** The WebSocket and polling URLs for a base URL. */
export function endpoints (base: string | undefined): { ws: string, poll: string } {
  const location = (globalThis as { location?: { href: string } }).location
  if (base === undefined && location === undefined) {
    throw new TypeError('connect(): pass options.url, the base URL of the statistics service (e.g. http://localhost:8000)')
  }
  const url = new URL(base ?? '/', location?.href)
  const secure = url.protocol === 'https:' || url.protocol === 'wss:'
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new TypeError(`connect(): url must be http(s) or ws(s), got ${url.protocol}`)
  }
  let prefix = url.pathname.replace(/\/+$/, '')
  if (prefix.endsWith(WS_PATH)) prefix = prefix.slice(0, -WS_PATH.length)
  const host = url.host
  return {
    ws: `${secure ? 'wss' : 'ws'}://${host}${prefix}${WS_PATH}`,
    poll: `${secure ? 'https' : 'http'}://${host}${prefix}${STATISTICS_PATH}`
  }
}
