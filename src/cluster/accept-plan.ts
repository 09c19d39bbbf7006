/**
 * Which workers accept new connections, when the kernel hands them out
 * (WORKER_ACCEPT=shared). Every worker listens on the one shared socket and
 * whichever wakes first takes the next connection: cheap, but nothing keeps
 * the workers even, and a worker that holds MAX_SOCKETS would refuse
 * handshakes with 503 while its siblings have room. So a worker that is
 * full, or well ahead of the least loaded one, stops listening for a while
 * and the kernel gives the connections to the others.
 *
 * Pure: the primary feeds it what the workers report and sends the answers.
 */

/** What the primary knows of one worker. */
export interface WorkerLoad {
  /** WebSockets it holds (counted against MAX_SOCKETS). */
  held: number
  /** Listening, as the worker last reported. */
  accepting: boolean
}

export interface AcceptPlan {
  /** Workers to ask to stop listening. */
  stop: number[]
  /** Workers to ask to listen again. */
  resume: number[]
}

/**
 * How far ahead of the least loaded worker one may get before it stops
 * accepting: 10% of the mean, at least this many sockets. The kernel alone
 * keeps two workers within ~7% at 15,000 sockets, so most runs never pause;
 * a pause costs a close, two messages and a listen, and while it lasts one
 * worker fewer takes handshakes.
 */
export const MIN_SLACK = 256
export const SLACK_SHARE = 0.1

/**
 * A worker stops accepting when it is full, or more than the slack ahead of
 * the least loaded worker; it accepts again once it has room and is within
 * half the slack (so that it does not flap). When every worker is full they
 * all accept: a handshake then gets a quick 503 rather than waiting in the
 * kernel's queue. And at least one worker always keeps listening: when the
 * last one closes its copy of the socket, the primary closes the port.
 */
/**
 * @param loads the workers that have carried out every command sent to them
 * @param unsettled how many others there are: they get no command and do
 *   not count as listening until they report again
 */
export function planAccepting (loads: ReadonlyMap<number, WorkerLoad>, capacity: number, unsettled = 0): AcceptPlan {
  const stop: number[] = []
  const resume: number[] = []
  let min = Infinity
  let total = 0
  for (const { held } of loads.values()) {
    min = Math.min(min, held)
    total += held
  }
  if (loads.size + unsettled < 2 || min >= capacity) {
    for (const [id, load] of loads) if (!load.accepting) resume.push(id)
    return { stop, resume }
  }
  const slack = Math.max(MIN_SLACK, Math.ceil(total / loads.size * SLACK_SHARE))
  let keeps = false
  for (const [id, load] of loads) {
    if (load.accepting) {
      if (load.held >= capacity || load.held > min + slack) stop.push(id)
      else keeps = true
    } else if (load.held < capacity && load.held <= min + slack / 2) {
      resume.push(id)
    }
  }
  if (!keeps && stop.length > 0) {
    // Every listener would stop: the least loaded stays until one that
    // resumes has reported that it listens.
    let least = 0
    for (let i = 1; i < stop.length; i++) if (loads.get(stop[i])!.held < loads.get(stop[least])!.held) least = i
    stop.splice(least, 1)
  }
  // ("Listener" means a settled one: an unsettled worker that listened may be closing.)
  return { stop, resume }
}
