import { humanize } from './format.js'

/**
 * `events_by_type` as rows for the breakdown, free of the DOM (tested in
 * Node): the busiest types first, the rest summed into one row so a
 * service counting 256 types still draws a short table.
 */

/** Types drawn one by one; the others share one "Other types" row. */
export const MAX_TYPE_ROWS = 8

export interface TypeRow {
  type: string
  label: string
  count: number
  /** Share of all events (0–1). */
  share: number
}

export function typeRows (byType: unknown, limit = MAX_TYPE_ROWS): TypeRow[] {
  if (byType === null || typeof byType !== 'object') return []
  const counts = Object.entries(byType as Record<string, unknown>)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]) && entry[1] > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  const total = counts.reduce((sum, [, count]) => sum + count, 0)
  if (total === 0) return []
  const shown = counts.length > limit ? counts.slice(0, limit - 1) : counts
  const rows = shown.map(([type, count]) => ({ type, label: humanize(type), count, share: count / total }))
  const rest = counts.slice(shown.length).reduce((sum, [, count]) => sum + count, 0)
  if (rest > 0) rows.push({ type: '', label: `Other types (${counts.length - shown.length})`, count: rest, share: rest / total })
  return rows
}
