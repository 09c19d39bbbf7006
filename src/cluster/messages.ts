/**
 * The messages between the primary and its workers about accepting
 * connections (WORKER_ACCEPT=shared), over node:cluster's IPC channel.
 */

/** Worker → primary: its load, sent when it changed (and right after it started or stopped listening). */
export interface LoadReport {
  push: 'accept-load'
  held: number
  accepting: boolean
  /**
   * The last command this worker has carried out (0: none). A report sent
   * before the worker got to the primary's latest command says nothing
   * about where the worker will be: under load that is tens of milliseconds.
   */
  seq: number
}

/** Primary → worker: start or stop listening. */
export interface AcceptCommand {
  push: 'accept'
  accept: boolean
  /** Numbers the commands to one worker: 1, 2, … */
  seq: number
}

export function isLoadReport (message: unknown): message is LoadReport {
  const m = message as Partial<LoadReport> | null
  return typeof m === 'object' && m !== null && m.push === 'accept-load' &&
    Number.isSafeInteger(m.held) && (m.held as number) >= 0 && typeof m.accepting === 'boolean' &&
    Number.isSafeInteger(m.seq) && (m.seq as number) >= 0
}

export function isAcceptCommand (message: unknown): message is AcceptCommand {
  const m = message as Partial<AcceptCommand> | null
  return typeof m === 'object' && m !== null && m.push === 'accept' && typeof m.accept === 'boolean' &&
    Number.isSafeInteger(m.seq) && (m.seq as number) > 0
}
