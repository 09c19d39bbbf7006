/** Small helpers the benchmarks share: a free loopback port and a process's memory. */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

/** Resident memory of a process (VmRSS in /proc), in bytes. */
export function rssBytes (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? NaN : Number(match[1]) * 1024
}
