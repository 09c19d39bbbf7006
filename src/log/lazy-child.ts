import type { FastifyBaseLogger } from 'fastify'

type Level = 'info' | 'warn' | 'error'

/**
 * A child logger that is only built when something is logged. A pino child
 * kept per WebSocket connection costs several hundred bytes (and keeps the
 * upgrade request's logger alive) for the connection's whole life, while a
 * connection logs only a few lines: at open, on errors and at close.
 * One small object per connection; the methods live on the prototype.
 */
export class LazyChildLogger {
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Record<string, unknown>

  constructor (parent: FastifyBaseLogger, bindings: Record<string, unknown>) {
    this.#parent = parent
    this.#bindings = bindings
  }

  info (objOrMessage: object | string, message?: string): void { this.#log('info', objOrMessage, message) }
  warn (objOrMessage: object | string, message?: string): void { this.#log('warn', objOrMessage, message) }
  error (objOrMessage: object | string, message?: string): void { this.#log('error', objOrMessage, message) }

  #log (level: Level, objOrMessage: object | string, message?: string): void {
    // Pino can tell without building anything; other loggers just get the child.
    const parent = this.#parent as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }
    if (parent.isLevelEnabled?.(level) === false) return
    const child = this.#parent.child(this.#bindings)
    if (typeof objOrMessage === 'string') child[level](objOrMessage)
    else child[level](objOrMessage, message)
  }
}

/** A lazily built child of `parent` with `bindings`. */
export function lazyChild (parent: FastifyBaseLogger, bindings: Record<string, unknown>): LazyChildLogger {
  return new LazyChildLogger(parent, bindings)
}
