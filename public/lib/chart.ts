import { formatCount, formatMinute } from './format.js'

const SVG = 'http://www.w3.org/2000/svg'

function element<K extends keyof SVGElementTagNameMap> (name: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name)
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value))
  if (text !== undefined) node.textContent = text
  return node
}

/**
 * Draws a bar per minute into `svg`, sized to the element, with the peak on
 * the left axis and the time range below. Hand-written SVG: a few dozen
 * elements need no charting library, and nothing is loaded from elsewhere.
 * @returns a one-line summary for screen readers.
 */
export function renderBarChart (svg: SVGSVGElement, points: Array<{ start: number, count: number }>): string {
  const width = Math.max(svg.clientWidth, 200)
  const height = Math.max(svg.clientHeight, 100)
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`)
  const left = 32
  const bottom = 18
  const top = 6
  const plotWidth = width - left - 4
  const plotHeight = height - top - bottom
  const peak = Math.max(0, ...points.map(point => point.count))
  const scale = Math.max(peak, 1)
  const slot = plotWidth / Math.max(points.length, 1)
  const barWidth = Math.max(slot - 2, 1)

  const nodes: SVGElement[] = [
    element('line', { class: 'axis', x1: left, y1: top + plotHeight + 0.5, x2: width - 4, y2: top + plotHeight + 0.5 }),
    element('text', { class: 'label', x: left - 6, y: top + 10, 'text-anchor': 'end' }, String(peak)),
    element('text', { class: 'label', x: left - 6, y: top + plotHeight, 'text-anchor': 'end' }, '0')
  ]
  points.forEach((point, i) => {
    if (point.count === 0) return
    const barHeight = Math.max((point.count / scale) * plotHeight, 1)
    const bar = element('rect', {
      class: i === points.length - 1 ? 'bar bar-current' : 'bar',
      x: (left + i * slot + 1).toFixed(1),
      y: (top + plotHeight - barHeight).toFixed(1),
      width: barWidth.toFixed(1),
      height: barHeight.toFixed(1)
    })
    bar.append(element('title', {}, `${formatMinute(point.start)}: ${point.count} events`))
    nodes.push(bar)
  })
  if (points.length > 0) {
    nodes.push(element('text', { class: 'label', x: left, y: height - 4 }, formatMinute(points[0].start)))
    nodes.push(element('text', { class: 'label', x: width - 4, y: height - 4, 'text-anchor': 'end' }, 'now'))
  }
  svg.replaceChildren(...nodes)

  const total = points.reduce((sum, point) => sum + point.count, 0)
  return total === 0
    ? 'No events counted in the last 30 minutes.'
    : `${formatCount(total)} ${total === 1 ? 'event' : 'events'} in the last 30 minutes; at most ${formatCount(peak)} in one minute; ${formatCount(points[points.length - 1].count)} so far this minute.`
}
