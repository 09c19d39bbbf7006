import type { StatisticsClient } from '../../src/client/index.js'
import { formatCount } from './format.js'
import { typeRows, type TypeRow } from './type-counts.js'

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
 *
 * Each type's label is a button: it asks `onPick` to filter the feed to
 * that type (the Cameras panel does it through `subscribe`), and again, or
 * "All types", to show every type. Rows are updated in place and reordered
 * only when the order changes, so a focused button keeps its focus while
 * the counts move.
 */
export class TypeBreakdown {
  readonly #rows = byId<HTMLTableSectionElement>('breakdown-rows')
  readonly #table = byId<HTMLTableElement>('breakdown-table')
  readonly #empty = byId('breakdown-empty')
  readonly #all = byId<HTMLButtonElement>('types-all')
  readonly #byType = new Map<string, HTMLTableRowElement>()
  readonly #onPick: (eventType: string | null) => void
  #selected: string | null = null
  #key = ''

  constructor (onPick: (eventType: string | null) => void = () => {}) {
    this.#onPick = onPick
    this.#rows.addEventListener('click', event => {
      const row = (event.target as Element).closest<HTMLElement>('.type-select')?.closest('tr')
      const type = row?.dataset.type
      if (type === undefined || type === '') return
      this.#onPick(this.#selected === type ? null : type)
    })
    this.#all.addEventListener('click', () => { this.#onPick(null) })
    this.show({})
  }

  attach (client: StatisticsClient): void {
    client.on('statistics_update', message => { this.show(message.data.events_by_type) })
  }

  /** Marks the type the feed is filtered to (null: every type). */
  select (eventType: string | null): void {
    this.#selected = eventType
    this.#all.setAttribute('aria-pressed', String(eventType === null))
    for (const [type, row] of this.#byType) {
      const selected = type === eventType
      row.classList.toggle('type-selected', selected)
      row.querySelector('.type-select')?.setAttribute('aria-pressed', String(selected))
    }
  }

  show (byType: unknown): void {
    const rows = typeRows(byType)
    const key = JSON.stringify(rows)
    if (key === this.#key) return
    this.#key = key
    this.#empty.hidden = rows.length > 0
    this.#table.hidden = rows.length === 0
    const nodes = rows.map(row => this.#row(row))
    for (const [type, node] of this.#byType) if (!nodes.includes(node)) this.#byType.delete(type)
    const current = Array.from(this.#rows.children)
    if (current.length !== nodes.length || nodes.some((node, i) => current[i] !== node)) this.#rows.replaceChildren(...nodes)
    this.select(this.#selected)
  }

  #row (row: TypeRow): HTMLTableRowElement {
    let tr = this.#byType.get(row.type)
    if (tr === undefined) {
      tr = document.createElement('tr')
      tr.dataset.type = row.type
      const bar = document.createElement('meter')
      bar.min = 0
      bar.max = 1
      const share = cell('td', 'type-share', '')
      share.append(bar)
      const th = cell('th', 'type-label', '')
      th.scope = 'row'
      // "Other types" sums several: there is no one type to filter by.
      if (row.type === '') {
        th.textContent = row.label
      } else {
        const button = document.createElement('button')
        button.type = 'button'
        button.className = 'type-select'
        button.textContent = row.label
        button.title = `Show only ${row.label.toLowerCase()} events in the feed`
        th.append(button)
      }
      tr.append(th, cell('td', 'type-count', ''), share)
      this.#byType.set(row.type, tr)
    }
    const [th, count, share] = tr.children as unknown as [HTMLElement, HTMLElement, HTMLElement]
    if (row.type === '') th.textContent = row.label
    count.textContent = formatCount(row.count)
    const bar = share.firstElementChild as HTMLMeterElement
    bar.value = row.share
    const percent = `${Math.round(row.share * 100)}%`
    bar.textContent = percent
    bar.title = `${percent} of all events`
    return tr
  }
}
