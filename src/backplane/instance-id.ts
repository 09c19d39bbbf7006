import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'

/** A new id for this process: readable in `instances`, unique across restarts. */
export function newInstanceId (): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
}
