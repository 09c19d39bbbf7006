import { Server as NetServer } from 'node:net'
import type { LoadReport } from './messages.js'

export interface AcceptGateOptions {
  /** The worker's listening server. */
  server: NetServer
  /** Where it listens, as its first listen was asked: the primary hands back the same shared socket for the same address and port. */
  listenOn: { host: string, port: number, backlog?: number }
  /** WebSockets this worker holds (the count MAX_SOCKETS limits). */
  held: () => number
  /** Sends a report to the primary. */
  send: (report: LoadReport) => void
  /** How often the load is looked at; a report goes only when it changed. */
  reportEveryMs: number
  /** Told when a listen to resume failed (the worker then stays stopped). */
  failed: (err: unknown) => void
}

/**
 * A worker's side of WORKER_ACCEPT=shared: reports its load to the primary
 * and stops or resumes listening when asked.
 *
 * Stopping closes only this worker's copy of the shared listening socket:
 * the socket and its queue of pending connections stay open in the primary
 * and in the workers still listening, which take them. It goes through
 * net.Server's close, not http.Server's: the HTTP one also closes idle
 * keep-alive connections, which would make API clients reconnect at every
 * pause. Resuming listens again on the same address and port, which
 * node:cluster answers with the same shared socket.
 */
export class AcceptGate {
  readonly #options: AcceptGateOptions
  #accepting = true
  #wanted = true
  /** The primary's latest command, and the last one carried out. */
  #wantedSeq = 0
  #doneSeq = 0
  #applying = false
  #stopped = false
  #last: LoadReport | null = null
  #timer: NodeJS.Timeout | null = null

  constructor (options: AcceptGateOptions) {
    this.#options = options
  }

  get accepting (): boolean {
    return this.#accepting
  }

  start (): void {
    this.#report()
    this.#timer = setInterval(() => { this.#report() }, this.#options.reportEveryMs)
    this.#timer.unref()
  }

  /** The primary's command number `seq`: listen (true) or not (false). */
  command (accept: boolean, seq: number): void {
    if (this.#stopped || seq <= this.#wantedSeq) return
    this.#wanted = accept
    this.#wantedSeq = seq
    void this.#apply()
  }

  /**
   * Shutting down: no more reports, and no listen again (the server is about
   * to close; a worker that is not listening then simply has nothing to close).
   */
  stop (): void {
    this.#stopped = true
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }

  /** Applies the wanted state; commands that arrive meanwhile are applied after, in order. */
  async #apply (): Promise<void> {
    if (this.#applying) return
    this.#applying = true
    try {
      while (!this.#stopped && this.#doneSeq !== this.#wantedSeq) {
        const seq = this.#wantedSeq
        if (this.#wanted && !this.#accepting) {
          await this.#listen()
          this.#accepting = true
        } else if (!this.#wanted && this.#accepting) {
          NetServer.prototype.close.call(this.#options.server)
          this.#accepting = false
        }
        this.#doneSeq = seq
        this.#report()
      }
    } catch (err) {
      // Reported as done and not listening: the primary may ask again.
      this.#doneSeq = this.#wantedSeq
      this.#options.failed(err)
      this.#report()
    } finally {
      this.#applying = false
    }
  }

  async #listen (): Promise<void> {
    const { server, listenOn } = this.#options
    await new Promise<void>((resolve, reject) => {
      // A listen error is an 'error' event: without this listener it would end the process.
      const onError = (err: Error): void => { reject(err) }
      server.once('error', onError)
      server.listen(listenOn, () => {
        server.off('error', onError)
        resolve()
      })
    })
  }

  #report (): void {
    if (this.#stopped) return
    const held = this.#options.held()
    const last = this.#last
    if (last !== null && last.held === held && last.accepting === this.#accepting && last.seq === this.#doneSeq) return
    this.#last = { push: 'accept-load', held, accepting: this.#accepting, seq: this.#doneSeq }
    this.#options.send(this.#last)
  }
}
