import http from 'node:http'
import net from 'node:net'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { Test } from '../helper.js'

/**
 * A real HTTP proxy in front of the service that forwards every HTTP request
 * but can refuse WebSocket upgrades (`block`) or stall open WebSocket
 * tunnels without closing them (`freeze`, a dead network path). It lets the
 * tests take the socket away from a client while the HTTP API stays up.
 */
export class WebSocketGate {
  readonly url: string
  /** Upgrades forwarded to the service. */
  forwarded = 0
  /** Upgrades refused while blocked. */
  refused = 0
  #blocked = false
  readonly #server: http.Server
  readonly #tunnels = new Set<[net.Socket, net.Socket]>()

  private constructor (server: http.Server, url: string) {
    this.#server = server
    this.url = url
  }

  /** @param addHeaders headers added to every HTTP response (a Content-Security-Policy, say). */
  static async start (target: string, t: Test, addHeaders: Record<string, string> = {}): Promise<WebSocketGate> {
    const { hostname, port } = new URL(target)
    const server = http.createServer((request, response) => {
      const upstream = http.request({ host: hostname, port, method: request.method, path: request.url, headers: request.headers }, (reply) => {
        response.writeHead(reply.statusCode ?? 502, { ...reply.headers, ...addHeaders })
        reply.pipe(response)
      })
      upstream.on('error', () => { response.destroy() })
      request.pipe(upstream)
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const gate = new WebSocketGate(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    server.on('upgrade', (request: http.IncomingMessage, socket: net.Socket, head: Buffer) => { gate.#upgrade(request, socket, head, hostname, Number(port)) })
    t.teardown(async () => {
      for (const [a, b] of gate.#tunnels) { a.destroy(); b.destroy() }
      server.closeAllConnections()
      server.close()
      await once(server, 'close').catch(() => {})
    })
    return gate
  }

  /** Refuses new upgrades with 503 and cuts every open tunnel. */
  block (): void {
    this.#blocked = true
    for (const [a, b] of this.#tunnels) { a.destroy(); b.destroy() }
  }

  unblock (): void {
    this.#blocked = false
  }

  /** Stops forwarding on every open tunnel, leaving the TCP connections open. */
  freeze (): void {
    for (const [client, upstream] of this.#tunnels) {
      client.unpipe(upstream)
      upstream.unpipe(client)
      client.pause()
      upstream.pause()
    }
  }

  #upgrade (request: http.IncomingMessage, socket: net.Socket, head: Buffer, host: string, port: number): void {
    socket.on('error', () => {})
    if (this.#blocked) {
      this.refused++
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    this.forwarded++
    const upstream = net.connect(port, host)
    const tunnel: [net.Socket, net.Socket] = [socket, upstream]
    this.#tunnels.add(tunnel)
    const end = (): void => {
      this.#tunnels.delete(tunnel)
      socket.destroy()
      upstream.destroy()
    }
    upstream.on('error', end)
    upstream.on('close', end)
    socket.on('close', end)
    upstream.on('connect', () => {
      let head_ = `${request.method ?? 'GET'} ${request.url ?? '/'} HTTP/1.1\r\n`
      for (let i = 0; i < request.rawHeaders.length; i += 2) head_ += `${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}\r\n`
      upstream.write(head_ + '\r\n')
      if (head.length > 0) upstream.write(head)
      socket.pipe(upstream)
      upstream.pipe(socket)
    })
  }
}
