import type { ServerResponse } from 'node:http'

/** How a test upstream answers: well, or in one of the ways a hostile or broken upstream does. */
export type UpstreamMode = 'good' | 'deep' | 'huge' | 'huge-chunked' | 'endless' | 'garbage'

/** Answers one upstream request in `mode`. Sizes are for a cap of 64 KiB or more, up to 1 MiB. */
export function serveUpstream (mode: UpstreamMode, res: ServerResponse): void {
  switch (mode) {
    case 'good':
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ visitors: 7 }))
      return
    case 'deep': {
      // 20,000 levels in 40 KB: under any byte cap, deadly for JSON.stringify.
      res.writeHead(200, { 'content-type': 'application/json' }).end('['.repeat(20_000) + ']'.repeat(20_000))
      return
    }
    case 'huge': {
      // 2 MiB, announced by content-length.
      const body = JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
      return
    }
    case 'huge-chunked': {
      // 2 MiB with no content-length: only counting while reading finds it.
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"pad":"')
      const chunk = 'x'.repeat(64 * 1024)
      let sent = 0
      const more = (): void => {
        while (sent < 32) {
          sent++
          if (!res.write(chunk)) { res.once('drain', more); return }
        }
        res.end('"}')
      }
      res.on('error', () => {})
      more()
      return
    }
    case 'endless':
      // Headers at once, then a body that never finishes.
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"visitors":')
      return
    case 'garbage':
      res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json</html>')
  }
}
