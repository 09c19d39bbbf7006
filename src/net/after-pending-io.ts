/**
 * Runs `fn` once the I/O that is already waiting has been read.
 *
 * A timer that means "no answer came in time" fires in the event loop's
 * timers phase, which comes before the poll phase that reads sockets. When
 * this process was busy past the deadline (a large fan-out on a saturated
 * machine, a long GC pause, the process paused and resumed), the answer may
 * be sitting unread in the socket's receive buffer when the timer fires:
 * acting at once would blame the peer for this process's own delay, and
 * refuse a handshake Redis had admitted, drop a Redis connection that was
 * answering, cut off a client that had answered its ping, or close one whose
 * fresh token (or first `resume`) came in time.
 *
 * setImmediate runs after the next poll phase, so an answer that already
 * arrived is read (and its handlers run) first. One that has not arrived is
 * not waited for: the deadline moves by one turn of the event loop at most.
 */
export function afterPendingIo (fn: () => void): void {
  setImmediate(fn)
}
