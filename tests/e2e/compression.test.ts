import t from 'tap'
import { Client, publishEvent, startServer, token } from '../helper.js'
import { withChromium } from './browser.js'

/**
 * permessage-deflate with a real browser: headless Chromium (Debian's
 * package) negotiates it with the service, decodes the compressed frames
 * the service builds once for every socket, and its own compressed
 * messages are read.
 */

declare global {
  interface Window { received: Array<Record<string, unknown>>, socketClosed: number | null }
}

function bigData (n: number): Record<string, unknown> {
  const cameras: Record<string, unknown> = {}
  for (let i = 0; i < 40; i++) cameras[`cam-${i}`] = { events_today: n * 100 + i, last_event: new Date(1_700_000_000_000 + i * 1000).toISOString(), status: 'online' }
  return { n, cameras }
}

withChromium(chromium => {
  t.test('Chromium negotiates permessage-deflate, decodes the shared compressed frames and sends compressed messages', async t => {
    const server = await startServer(t, { COMPRESSION_MIN_BYTES: 64 })
    // Playwright's own default viewport; a JSON page has no policy to break.
    const page = await chromium.newPage(t, { context: {} })
    // The handshake response as the browser saw it.
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Network.enable')
    const handshake = new Promise<Record<string, string>>(resolve => {
      cdp.on('Network.webSocketHandshakeResponseReceived', event => { resolve(event.response.headers as Record<string, string>) })
    })
    await page.goto(`${server.url}/healthz`)
    // A plain socket alongside, for the same messages uncompressed.
    const plain = await Client.open(`${server.wsUrl}?token=${token('plain')}`, t, { perMessageDeflate: false })

    await page.evaluate(async url => {
      window.received = []
      window.socketClosed = null
      const socket = new WebSocket(url)
      socket.onmessage = event => { window.received.push(JSON.parse(event.data as string)) }
      socket.onclose = event => { window.socketClosed = event.code }
      await new Promise(resolve => { socket.onopen = resolve })
      // Chromium compresses every message it sends once negotiated: the service inflates it.
      socket.send(JSON.stringify({ type: 'ping', timestamp: 'from chromium' }))
    }, `${server.wsUrl}?token=${token('browser')}`)
    const headers = await handshake
    const extensions = Object.entries(headers).find(([name]) => name.toLowerCase() === 'sec-websocket-extensions')?.[1]
    t.match(extensions, /^permessage-deflate; server_no_context_takeover; client_no_context_takeover/, 'negotiated')
    await page.waitForFunction(() => window.received.some(message => message.type === 'pong' && message.echo === 'from chromium'))

    const before = server.app.compressor!.stats.messages
    for (const n of [1, 2, 3]) {
      const reply = await publishEvent(server, { camera_id: 'cam-1', event_type: 'motion', data: bigData(n) })
      t.equal(reply.status, 202)
    }
    await page.waitForFunction(() => window.received.filter(message => message.type === 'camera_event').length === 3)
    const inBrowser = await page.evaluate(() => window.received.filter(message => message.type === 'camera_event'))
    while (plain.messages.filter(message => message.type === 'camera_event').length < 3) await plain.next(message => message.type === 'camera_event')
    t.same(inBrowser, plain.messages.filter(message => message.type === 'camera_event'), 'the same JSON as the uncompressed socket')
    t.same(inBrowser.map(message => message.data), [bigData(1), bigData(2), bigData(3)])
    t.equal(server.app.compressor!.stats.messages - before, 3, 'three compressed frames were built, one per message')
    t.equal(await page.evaluate(() => window.socketClosed), null, 'the browser socket is still open')
  })
})
