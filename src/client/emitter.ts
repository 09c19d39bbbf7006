/** A minimal typed event emitter that works the same in a browser and in Node. */
export class Emitter<Events extends Record<string, unknown>> {
  readonly #handlers = new Map<keyof Events, Set<(payload: never) => void>>()

  /**
   * Calls `handler` on every `type` event.
   * @returns a function that removes the handler.
   */
  on<K extends keyof Events> (type: K, handler: (payload: Events[K]) => void): () => void {
    let set = this.#handlers.get(type)
    if (set === undefined) {
      set = new Set()
      this.#handlers.set(type, set)
    }
    set.add(handler as (payload: never) => void)
    return () => { set.delete(handler as (payload: never) => void) }
  }

  /**
   * Calls every handler of `type`. A throwing handler is reported and does
   * not stop the others, nor the connection that delivered the event.
   */
  emit<K extends keyof Events> (type: K, payload: Events[K]): void {
    const set = this.#handlers.get(type)
    if (set === undefined) return
    for (const handler of [...set]) {
      try {
        (handler as (payload: Events[K]) => void)(payload)
      } catch (err) {
        reportLater(err)
      }
    }
  }

  removeAll (): void {
    this.#handlers.clear()
  }
}

// Browsers route reportError to the page's error handlers (window.onerror);
// elsewhere it is logged. Either way the client's own state stays consistent.
function reportLater (err: unknown): void {
  const report = (globalThis as { reportError?: (err: unknown) => void }).reportError
  if (typeof report === 'function') report(err)
  else console.error('statistics client: an event handler threw', err)
}
