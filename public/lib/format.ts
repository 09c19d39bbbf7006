/** Display helpers shared by the dashboard's parts. */

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
const minute = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const number = new Intl.NumberFormat()

export function formatTime (value: Date | string | number): string {
  const date = value instanceof Date ? value : new Date(value)
  return Number.isNaN(date.getTime()) ? '–' : time.format(date)
}

export function formatMinute (value: Date | number): string {
  return minute.format(value)
}

/** A count for a card; anything that is not a number shows as a dash. */
export function formatCount (value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? number.format(value) : '–'
}

/** `face_recognized` -> `Face recognized` */
export function humanize (type: string): string {
  const words = type.replace(/[_-]+/g, ' ').trim()
  return words === '' ? 'Event' : words[0].toUpperCase() + words.slice(1)
}
