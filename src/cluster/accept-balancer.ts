import { planAccepting, type WorkerLoad } from './accept-plan.js'
import type { AcceptCommand, LoadReport } from './messages.js'

export interface AcceptBalancerOptions {
  /** MAX_SOCKETS: what one worker may hold. */
  capacity: number
  /** Sends a command to a worker. */
  command: (workerId: number, command: AcceptCommand) => void
  /** Told of every command, for the log. */
  changed?: (workerId: number, accept: boolean, held: number) => void
}

/**
 * The primary's side of WORKER_ACCEPT=shared: keeps each worker's last
 * report and asks workers to stop or resume listening as planAccepting
 * says.
 *
 * Only a worker that has carried out every command sent to it is planned
 * for, and only such a worker that listens counts as keeping the port open.
 * A report can be older than the last command (the worker's event loop was
 * busy): trusting it could stop one worker while another is still between
 * its close and its listen, and with no worker listening the primary closes
 * the port, resetting every connection in its queue.
 */
export class AcceptBalancer {
  readonly #options: AcceptBalancerOptions
  readonly #reported = new Map<number, LoadReport>()
  /** The last command sent to each worker. */
  readonly #sent = new Map<number, AcceptCommand>()

  constructor (options: AcceptBalancerOptions) {
    this.#options = options
  }

  report (workerId: number, report: LoadReport): void {
    this.#reported.set(workerId, report)
    this.#plan()
  }

  /**
   * A worker exited: it no longer counts, and the plan is made again at
   * once. It may have been the only one listening: node:cluster then closes
   * the port until a stopped worker listens again.
   */
  remove (workerId: number): void {
    this.#reported.delete(workerId)
    this.#sent.delete(workerId)
    this.#plan()
  }

  #plan (): void {
    const settled = new Map<number, WorkerLoad>()
    let unsettled = 0
    for (const [id, { held, accepting, seq }] of this.#reported) {
      if (seq === (this.#sent.get(id)?.seq ?? 0)) settled.set(id, { held, accepting })
      else unsettled++
    }
    const plan = planAccepting(settled, this.#options.capacity, unsettled)
    for (const id of plan.stop) this.#send(id, false)
    for (const id of plan.resume) this.#send(id, true)
  }

  #send (workerId: number, accept: boolean): void {
    const command: AcceptCommand = { push: 'accept', accept, seq: (this.#sent.get(workerId)?.seq ?? 0) + 1 }
    this.#sent.set(workerId, command)
    this.#options.command(workerId, command)
    this.#options.changed?.(workerId, accept, this.#reported.get(workerId)?.held ?? 0)
  }
}
