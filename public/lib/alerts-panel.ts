import type { AlertMessage } from '../../src/protocol/messages.js'
import { AlertList, SOUND_KEY, soundOn } from './alert-list.js'
import { formatCount, formatTime } from './format.js'

export interface AlertsPanelParts {
  list: HTMLOListElement
  badge: HTMLElement
  empty: HTMLElement
  dropped: HTMLElement
  dismissAll: HTMLButtonElement
  sound: HTMLButtonElement
}

/** localStorage can throw (storage disabled, private mode quotas): the sound then stays off for this page only. */
function readSetting (): string | null {
  try { return window.localStorage.getItem(SOUND_KEY) } catch { return null }
}
function writeSetting (value: string): void {
  try { window.localStorage.setItem(SOUND_KEY, value) } catch { /* kept for this page only */ }
}

/**
 * The alerts panel: alerts stay until the operator dismisses them, newest
 * first, with a badge counting them. It lives as long as the page, so it
 * survives reconnects; a replayed alert (same seq) is not shown twice.
 * Critical alerts can beep (WebAudio, no asset), only if the operator turned
 * the sound on. Every value is set as text, never as HTML.
 */
export class AlertsPanel {
  readonly #parts: AlertsPanelParts
  readonly #alerts = new AlertList()
  #sound: boolean
  #audio: AudioContext | null = null

  constructor (parts: AlertsPanelParts) {
    this.#parts = parts
    this.#sound = soundOn(readSetting())
    parts.list.addEventListener('click', event => {
      const button = (event.target as Element).closest('button.alert-dismiss')
      const seq = Number((button?.closest('.alert-item') as HTMLElement | null)?.dataset.seq)
      if (button !== null && Number.isInteger(seq) && this.#alerts.dismiss(seq)) this.#render()
    })
    parts.dismissAll.addEventListener('click', () => {
      this.#alerts.dismissAll()
      this.#render()
    })
    parts.sound.addEventListener('click', () => {
      this.#sound = !this.#sound
      writeSetting(this.#sound ? 'on' : 'off')
      // Created on the operator's click: browsers only let audio start after a gesture.
      if (this.#sound) this.#context()
      this.#showSound()
    })
    this.#showSound()
    this.#render()
  }

  add (alert: AlertMessage): void {
    if (!this.#alerts.add(alert)) return
    this.#render()
    if (alert.level === 'critical' && this.#sound) this.#beep()
  }

  #showSound (): void {
    const button = this.#parts.sound
    button.setAttribute('aria-pressed', String(this.#sound))
    button.textContent = this.#sound ? 'Sound on' : 'Sound off'
    button.title = this.#sound ? 'Critical alerts beep; click to mute' : 'Click to beep on critical alerts'
  }

  #context (): AudioContext | null {
    if (this.#audio === null && typeof AudioContext === 'function') {
      try { this.#audio = new AudioContext() } catch { this.#audio = null }
    }
    return this.#audio
  }

  /** A short two-tone beep; silently nothing when the browser has no audio. */
  #beep (): void {
    const audio = this.#context()
    if (audio === null) return
    audio.resume().catch(() => {})
    const start = audio.currentTime
    const gain = audio.createGain()
    gain.gain.setValueAtTime(0.15, start)
    gain.gain.exponentialRampToValueAtTime(0.001, start + 0.4)
    gain.connect(audio.destination)
    for (const [frequency, at] of [[880, 0], [660, 0.2]] as const) {
      const tone = audio.createOscillator()
      tone.frequency.value = frequency
      tone.connect(gain)
      tone.start(start + at)
      tone.stop(start + at + 0.18)
    }
  }

  #render (): void {
    const { list, badge, empty, dropped, dismissAll } = this.#parts
    const count = this.#alerts.count
    badge.textContent = formatCount(count)
    badge.dataset.count = String(count)
    empty.hidden = count > 0
    dismissAll.disabled = count === 0
    const older = this.#alerts.dropped
    dropped.hidden = older === 0
    dropped.textContent = older === 0 ? '' : `${formatCount(older)} older alert${older === 1 ? '' : 's'} not shown`
    list.replaceChildren(...this.#alerts.alerts.map(alert => this.#item(alert)))
  }

  #item (alert: AlertMessage): HTMLLIElement {
    const item = document.createElement('li')
    item.className = alert.level === 'critical' ? 'alert-item alert-critical' : 'alert-item'
    item.dataset.seq = String(alert.seq)
    item.dataset.level = alert.level
    item.title = alert.message // the row shows one line of it
    const time = document.createElement('time')
    time.className = 'alert-time'
    time.dateTime = alert.timestamp
    time.textContent = formatTime(alert.timestamp)
    const what = document.createElement('span')
    what.className = 'alert-what'
    const tag = document.createElement('span')
    tag.className = 'tag'
    tag.dataset.level = alert.level
    tag.textContent = alert.level
    what.append(tag, alert.message)
    const camera = alert.camera_id ?? (typeof alert.data?.camera_id === 'string' ? alert.data.camera_id : null)
    const where = document.createElement('span')
    where.className = 'alert-where'
    where.textContent = camera ?? ''
    const dismiss = document.createElement('button')
    dismiss.type = 'button'
    dismiss.className = 'alert-dismiss link-button'
    dismiss.textContent = 'Dismiss'
    dismiss.setAttribute('aria-label', `Dismiss ${alert.level} alert: ${alert.message}`)
    item.append(time, what, dismiss, where)
    return item
  }
}
