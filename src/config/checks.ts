import type { Read } from './setting.js'

/** An http(s) URL, normalized. */
export function httpUrl (value: string, name: string): Read<string> {
  try {
    const url = new URL(value)
    if (url.protocol === 'http:' || url.protocol === 'https:') return { value: url.toString() }
  } catch {}
  return { problem: `${name}=${JSON.stringify(value)} is not an http(s) URL` }
}

/** redis://[:password@]host[:port][/db] or rediss://…; the value is never echoed (it may carry a password). */
export function redisUrl (value: string, name: string): Read<string> {
  try {
    const url = new URL(value)
    const dbOk = url.pathname === '' || url.pathname === '/' || /^\/\d+$/.test(url.pathname)
    if ((url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '' && dbOk) return { value: url.toString() }
  } catch {}
  return { problem: `${name} is not a Redis URL; expected redis://[:password@]host[:port][/db] or rediss://… for TLS` }
}

/**
 * A browser origin, written exactly as browsers send it (scheme://host[:port],
 * no path, no trailing slash): anything else could never match.
 */
export function origin (text: string, name: string): Read<string> {
  try {
    const url = new URL(text)
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text) return { value: url.origin }
  } catch {}
  return { problem: `${name} entry ${JSON.stringify(text)} is not an origin; write it as the browser sends it, e.g. https://dashboard.example.com or http://localhost:8080` }
}
