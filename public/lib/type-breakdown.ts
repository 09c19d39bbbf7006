import type { StatisticsClient } from '../../src/client/index.js'
import { formatCount } from './format.js'
import { typeRows } from './type-counts.js'

function byId<T extends HTMLElement> (id: string): T {
  const node = document.getElementById(id)
  if (node === null) throw new Error(`the page is missing #${id}`)
  return node as T
}

function cell (tag: 'th' | 'td', className: string, text: string): HTMLTableCellElement {
  const node = document.createElement(tag)
  node.className = className
  node.textContent = text
  return node
}

/**
 * `events_by_type` as a small table with a bar per type (a <meter>: no
 * inline style, so the strict CSP holds), busiest first. Every label is
 * set as text: event types are publishers' strings.
 */
export class TypeBreakdown {
  readonly #rows = byId<HTMLTableSectionElement>('breakdown-rows')
  readonly #table = byId<HTMLTableElement>('breakdown-table')
  readonly #empty = byId('breakdown-empty')
  #key = ''

  constructor () {
    this.show({})
  }

  attach (client: StatisticsClient): void {
    client.on('statistics_update', message => { this.show(message.data.events_by_type) })
  }

  show (byType: unknown): void {
    const rows = typeRows(byType)
    const key = JSON.stringify(rows)
    if (key === this.#key) return
    this.#key = key
    this.#empty.hidden = rows.length > 0
    this.#table.hidden = rows.length === 0
    this.#rows.replaceChildren(...rows.map(row => {
      const tr = document.createElement('tr')
      tr.dataset.type = row.type
      const bar = document.createElement('meter')
      bar.min = 0
      bar.max = 1
      bar.value = row.share
      const percent = `${Math.round(row.share * 100)}%`
      bar.textContent = percent
      bar.title = `${percent} of all events`
      const share = cell('td', 'type-share', '')
      share.append(bar)
      const th = cell('th', 'type-label', row.label)
      th.scope = 'row'
      tr.append(th, cell('td', 'type-count', formatCount(row.count)), share)
      return tr
    }))
  }
}
