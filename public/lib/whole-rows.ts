/**
 * Keeps a scrolling list of fixed-height rows a whole number of rows tall,
 * so its bottom edge never cuts a row in half (half a line of text reads
 * like garbage). The list sits in a `viewport` element that the layout
 * sizes; the list is positioned inside it (see dashboard.css) and takes
 * `--rows` rows, the most that fit. Scroll snapping keeps it that way
 * while scrolling. Setting a custom property through the CSSOM is not an
 * inline style, so the strict CSP stays.
 */
export function keepWholeRows (viewport: HTMLElement, list: HTMLElement, minRows = 3): void {
  const fit = (): void => {
    const row = parseFloat(getComputedStyle(list).getPropertyValue('--row-height'))
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize)
    const rowPx = Number.isFinite(row) && row > 0 ? row * rem : 0
    if (rowPx === 0) return
    const rows = String(Math.max(minRows, Math.floor((viewport.clientHeight + 0.5) / rowPx)))
    if (list.style.getPropertyValue('--rows') !== rows) list.style.setProperty('--rows', rows)
  }
  new ResizeObserver(fit).observe(viewport)
  fit()
}
