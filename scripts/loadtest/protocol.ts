/** Messages between the load test's main process and its worker processes. */

export interface Assignment {
  /** How many sockets, and from which local address (127.0.0.x), to open. */
  count: number
  localAddress: string
  /**
   * The first of `count` consecutive source ports, or 0 to let the kernel
   * choose. Binding a source address with port 0 makes Linux search its
   * bind table for a free port on every connect, which grows with the
   * sockets already bound (at ~25,000 per address the client spent 60% of
   * its CPU in connect()); a port chosen here is one hash lookup.
   */
  firstPort: number
}

export type ToWorker =
  | {
    cmd: 'start'
    url: string
    /** User names and tokens; socket i uses tokens[(offset + i) % tokens.length]. */
    tokens: string[]
    offset: number
    assignments: Assignment[]
    /** Connections per second this worker opens. */
    ramp: number
    /** Only events carrying this run id count for delivery latency. */
    runId: string
  }
  | { cmd: 'stop' }

export interface WorkerProgress {
  ev: 'progress'
  opened: number
  failed: number
  open: number
  received: number
  /** This run's events received (each counted once per socket that got it). */
  delivered: number
}

export interface WorkerReport {
  ev: 'report'
  opened: number
  failed: number
  /** Connections that never opened, by close code (or "error" for a refused TCP connect). */
  failures: Record<string, number>
  /** Connections that closed during the run, by close code. */
  closes: Record<string, number>
  received: number
  delivered: number
  missing: number
  connect: string
  firstMessage: string
  delivery: string
}

export type FromWorker = WorkerProgress | WorkerReport
