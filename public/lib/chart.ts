import { formatCount, formatMinute } from './format.js'

const SVG = 'http://www.w3.org/2000/svg'

function element<K extends keyof SVGElementTagNameMap> (name: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name)
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value))
  if (text !== undefined) node.textContent = text
  return node
}

/** Minutes between the time labels under the bars (the last one reads "now"). */
const LABEL_EVERY_MINUTES = 15

/**
 * Draws a bar per minute into `svg`, sized to the element, with the peak on
 * the left axis and a time label every quarter hour. With no events at all
 * it draws no axis numbers (a "0 … 0" scale says nothing) but a sentence.
 * Hand-written SVG: a few dozen elements need no charting library, and
 * nothing is loaded from elsewhere.
 * @returns a one-line summary for screen readers (and the line under the chart).
 */
export function renderBarChart (svg: SVGSVGElement, points: Array<{ start: number, count: number }>): string {
  const width = Math.max(svg.clientWidth, 200)
  const height = Math.max(svg.clientHeight, 100)
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`)
  const minutes = `${points.length} ${points.length === 1 ? 'minute' : 'minutes'}`
  const peak = Math.max(0, ...points.map(point => point.count))
  const total = points.reduce((sum, point) => sum + point.count, 0)
  const left = Math.max(24, 8 + 7 * String(peak).length)
  const bottom = 18
  const top = 8
  const right = 6
  const plotWidth = width - left - right
  const plotHeight = height - top - bottom
  const slot = plotWidth / Math.max(points.length, 1)
  const barWidth = Math.max(slot - (slot > 6 ? 2 : 1), 1)
  const baseline = top + plotHeight + 0.5

  const nodes: SVGElement[] = [element('line', { class: 'axis', x1: left, y1: baseline, x2: width - right, y2: baseline })]
  if (total === 0) {
    nodes.push(element('text', { class: 'empty', x: left + plotWidth / 2, y: top + plotHeight / 2, 'text-anchor': 'middle' }, `No events in the last ${minutes}`))
  } else {
    nodes.push(
      element('line', { class: 'grid', x1: left, y1: top + 0.5, x2: width - right, y2: top + 0.5 }),
      element('text', { class: 'label', x: left - 6, y: top + 4, 'text-anchor': 'end' }, formatCount(peak)),
      element('text', { class: 'label', x: left - 6, y: top + plotHeight, 'text-anchor': 'end' }, '0')
    )
  }
  points.forEach((point, i) => {
    if (point.count === 0) return
    const barHeight = Math.max((point.count / peak) * plotHeight, 1)
    const bar = element('rect', {
      class: i === points.length - 1 ? 'bar bar-current' : 'bar',
      x: (left + i * slot + 0.5).toFixed(1),
      y: (top + plotHeight - barHeight).toFixed(1),
      width: barWidth.toFixed(1),
      height: barHeight.toFixed(1)
    })
    bar.append(element('title', {}, `${formatMinute(point.start)}: ${formatCount(point.count)} ${point.count === 1 ? 'event' : 'events'}`))
    nodes.push(bar)
  })
  // Time labels from the right ("now") back every quarter hour, where there is room for them.
  const roomFor = Math.floor(plotWidth / 48)
  const every = Math.max(LABEL_EVERY_MINUTES, Math.ceil(points.length / Math.max(roomFor, 1)))
  for (let i = points.length - 1; i >= 0; i -= every) {
    const x = left + (i + 0.5) * slot
    const last = i === points.length - 1
    const anchor = last ? 'end' : x - left < 20 ? 'start' : 'middle'
    nodes.push(element('text', { class: 'label', x: last ? width - right : x, y: height - 4, 'text-anchor': anchor }, last ? 'now' : formatMinute(points[i].start)))
  }
  svg.replaceChildren(...nodes)

  return total === 0
    ? `No events in the last ${minutes}.`
    : `${formatCount(total)} ${total === 1 ? 'event' : 'events'} in the last ${minutes}; at most ${formatCount(peak)} in one minute; ${formatCount(points[points.length - 1].count)} so far this minute.`
}
