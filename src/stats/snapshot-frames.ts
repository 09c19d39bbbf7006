import { encode } from '../protocol/codec.js'
import type { Snapshot } from './collector.js'

export interface SnapshotFramesLogger {
  warn (obj: object, msg: string): void
  info (obj: object, msg: string): void
}

/**
 * The one place a statistics snapshot becomes a `statistics_update` frame,
 * and is pushed only when its data differ from the last one pushed (a run
 * that found nothing new sends nothing). A new connection gets exactly the
 * frame the others were last sent, without encoding it again.
 */
export class SnapshotFrames {
  readonly #push: (frame: Buffer) => void
  readonly #logger: SnapshotFramesLogger
  #latest: Snapshot | null = null
  #frame: Buffer | null = null
  #pushedKey = ''
  #failing = false

  constructor (push: (frame: Buffer) => void, logger: SnapshotFramesLogger) {
    this.#push = push
    this.#logger = logger
  }

  /** The snapshot last offered (what `/api/statistics` serves); null before the first. */
  get latest (): Snapshot | null {
    return this.#latest
  }

  /** The frame last pushed; null before the first. */
  get frame (): Buffer | null {
    return this.#frame
  }

  /**
   * Takes a snapshot and pushes it when its data changed. Never throws: it
   * runs from timers, a Redis subscriber and health events, whose callers
   * could not catch it. A snapshot that cannot be encoded is skipped (logged
   * once until one can be again) and the last good one stays `latest`; the
   * next change tries again.
   */
  offer (snapshot: Snapshot): void {
    let frame: Buffer
    let key: string
    try {
      key = JSON.stringify(snapshot.data)
      if (key === this.#pushedKey) {
        this.#latest = snapshot
        return
      }
      frame = encode({ type: 'statistics_update', timestamp: snapshot.timestamp, data: snapshot.data })
    } catch (err) {
      // Not kept as `latest` either: /api/statistics could not serialize it.
      if (!this.#failing) this.#logger.warn({ err: (err as Error).message }, 'statistics snapshot could not be encoded; dashboards keep the last one')
      this.#failing = true
      return
    }
    this.#latest = snapshot
    if (this.#failing) this.#logger.info({}, 'statistics snapshots can be encoded again')
    this.#failing = false
    this.#pushedKey = key
    this.#frame = frame
    this.#push(frame)
  }
}
