import type { OnlineUser } from '../../src/protocol/messages.js'
import { formatCount, formatTime } from './format.js'

/** The most users listed by name; the count still says how many are online. */
const MAX_LISTED = 200

/**
 * The "Online now" panel (tokens with the `admin` role): the presence
 * snapshot replaces the list, each `user_status_change` adds or removes one
 * user (applying one twice changes nothing).
 */
export class OnlinePanel {
  readonly #panel: HTMLElement
  readonly #count: HTMLElement
  readonly #list: HTMLElement
  readonly #users = new Map<string, string>()

  constructor (panel: HTMLElement, count: HTMLElement, list: HTMLElement) {
    this.#panel = panel
    this.#count = count
    this.#list = list
  }

  show (visible: boolean): void {
    this.#panel.hidden = !visible
  }

  replace (users: readonly OnlineUser[]): void {
    this.#users.clear()
    for (const user of users) this.#users.set(user.user_id, user.since)
    this.#render()
  }

  change (userId: string, online: boolean, timestamp: string): void {
    if (online) {
      if (!this.#users.has(userId)) this.#users.set(userId, timestamp)
    } else this.#users.delete(userId)
    this.#render()
  }

  #render (): void {
    this.#count.textContent = formatCount(this.#users.size)
    const names = [...this.#users].sort(([a], [b]) => a.localeCompare(b)).slice(0, MAX_LISTED)
    this.#list.replaceChildren(...names.map(([userId, since]) => {
      const item = document.createElement('li')
      item.className = 'online-user'
      item.dataset.userId = userId
      const name = document.createElement('span')
      name.textContent = userId
      const at = document.createElement('time')
      at.dateTime = since
      at.textContent = `since ${formatTime(since)}`
      item.append(name, ' ', at)
      return item
    }))
  }
}

/** The roles claim of a JWT, read without verifying it (the service does that): only to decide what to show. */
export function tokenRoles (token: string): string[] {
  try {
    const payload = token.split('.')[1] ?? ''
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='))
    const roles = (JSON.parse(json) as { roles?: unknown }).roles
    return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : []
  } catch {
    return []
  }
}
