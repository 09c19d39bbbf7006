import { spawnSync } from 'node:child_process'

/** `ss` (iproute2) reads a listening socket's backlog: its Send-Q column. */
export const HAVE_SS = spawnSync('ss', ['-V']).status === 0

/** The backlog of the socket listening on `port`, as the kernel holds it. */
export function backlogOf (port: number): number {
  const out = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).stdout
  const [, , sendQ] = out.trim().split(/\s+/)
  return Number(sendQ)
}
