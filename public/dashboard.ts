/**
 * The dashboard page: wires the statistics client to the cards, the chart,
 * the live feed and the connection badge. Loaded as an ES module from
 * /assets/dashboard.js; no inline script or style anywhere, so a strict
 * Content-Security-Policy applies unchanged.
 */
import { connect, DEFAULT_TIMINGS, type StatisticsClient, type Status, type Timings } from '../src/client/index.js'
import { renderBarChart } from './lib/chart.js'
import { AlertsPanel } from './lib/alerts-panel.js'
import { CamerasPanel } from './lib/cameras-panel.js'
import { Feed } from './lib/feed.js'
import { formatCount, formatMinute, formatTime } from './lib/format.js'
import { Freshness, type FreshnessMode } from './lib/freshness.js'
import { MinuteSeries } from './lib/minute-series.js'
import { OnlinePanel, tokenRoles } from './lib/online-panel.js'
import { TypeBreakdown } from './lib/type-breakdown.js'
import { forgetToken, savedToken, saveToken, takeTokenFromAddressBar } from './lib/token-store.js'
import { keepWholeRows } from './lib/whole-rows.js'

declare global {
  interface Window {
    /**
     * Client timings set before this script runs (browser tests shorten the
     * reconnect and polling delays this way). The defaults apply otherwise.
     */
    __dashboardClientOptions?: Partial<Timings>
  }
}

const LABELS: Record<Status, string> = {
  connecting: 'Connecting',
  live: 'Live',
  polling: 'Polling',
  offline: 'Offline',
  unauthorized: 'Unauthorized'
}

function byId<T extends Element = HTMLElement> (id: string): T {
  const node = document.getElementById(id)
  if (node === null) throw new Error(`the page is missing #${id}`)
  return node as unknown as T
}

const badge = byId('status')
const detail = byId('status-detail')
const lastUpdate = byId<HTMLTimeElement>('last-update')
const tokenPanel = byId('token-panel')
const tokenMessage = byId('token-message')
const tokenForm = byId<HTMLFormElement>('token-form')
const tokenInput = byId<HTMLInputElement>('token-input')
const chart = byId<SVGSVGElement>('chart')
const chartSummary = byId('chart-summary')
const announcer = byId('announcer')
const feed = new Feed(byId<HTMLOListElement>('feed'), byId('feed-empty'))
const series = new MinuteSeries(60)
const freshness = new Freshness()
const statistics = byId('statistics')
const staleBanner = byId('stale-banner')
/** The time of the recognition on the card: the feed's and the snapshot's, whichever is newer, wins. */
let shownRecognitionAt = -Infinity
/** Between a resuming `connected` and `resumed`: replayed events say nothing about the statistics' freshness. */
let replaying = false
keepWholeRows(byId('feed-viewport'), byId('feed'))
keepWholeRows(byId('alerts-viewport'), byId('alerts'))
// One panel for the page's lifetime: it outlives every connection (and every token change).
const alerts = new AlertsPanel({
  list: byId<HTMLOListElement>('alerts'),
  badge: byId('alerts-badge'),
  empty: byId('alerts-empty'),
  dropped: byId('alerts-dropped'),
  dismissAll: byId<HTMLButtonElement>('alerts-dismiss-all'),
  sound: byId<HTMLButtonElement>('alerts-sound')
})
// Both outlive connections and token changes: the feed filter is applied to each new client.
const cameras = new CamerasPanel(feed)
// Clicking a type filters the feed through the Cameras panel, which owns the one feed filter.
const breakdown = new TypeBreakdown(eventType => { cameras.setEventType(eventType) })
cameras.onChange(filter => { breakdown.select(filter.eventType ?? null) })
const online = new OnlinePanel(byId('online-panel'), byId('online-count'), byId('online-list'))

let client: StatisticsClient | null = null

function timingOverrides (): Partial<Timings> {
  const given = window.__dashboardClientOptions ?? {}
  const timings: Partial<Timings> = {}
  for (const key of Object.keys(DEFAULT_TIMINGS) as Array<keyof Timings>) {
    const value = given[key]
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) timings[key] = value
  }
  return timings
}

/** "in 12 s" until the client's next socket attempt, or "" when none is scheduled. */
function nextAttempt (): string {
  const at = client?.nextAttemptAt ?? null
  if (at === null) return ''
  const seconds = Math.max(0, Math.ceil((at - Date.now()) / 1000))
  return seconds === 0 ? ' now' : ` in ${seconds} s`
}

function showStatus (status: Status, reason: string | null): void {
  badge.dataset.status = status
  badge.textContent = LABELS[status]
  let text = ''
  if (status === 'connecting' && reason !== null) text = `Reconnecting${nextAttempt()}: ${reason}.`
  if (status === 'polling') text = `The live connection is unavailable: the statistics are refreshed every few seconds; next try to reconnect${nextAttempt()}.`
  if (status === 'offline' || status === 'unauthorized') text = reason ?? ''
  if (detail.textContent !== text) detail.textContent = text
  detail.hidden = text === ''
}

function showLastUpdate (): void {
  const at = client?.lastUpdate ?? null
  if (at === null) return
  lastUpdate.dateTime = at.toISOString()
  lastUpdate.textContent = formatTime(at)
}

function setText (id: string, text: string): void {
  byId(id).textContent = text
}

function showStatistics (data: Record<string, unknown>, timestamp: string): void {
  setText('events-today', formatCount(data.events_today))
  setText('events-total', formatCount(data.events_total))
  setText('recognitions-today', formatCount(data.recognitions_today))
  setText('active-cameras', formatCount(data.active_cameras))
  setText('connections', formatCount(data.total_connections))
  setText('users', typeof data.total_users === 'number' ? `${formatCount(data.total_users)} ${data.total_users === 1 ? 'user' : 'users'}` : '– users')
  const last = data.last_recognition as { person_name?: unknown, camera_id?: unknown, timestamp?: unknown } | null | undefined
  if (last !== null && typeof last === 'object') showRecognition(last.person_name, last.camera_id, last.timestamp)
  // The service's own per-minute history when it sends one (the chart then has minutes from before this page opened).
  if (series.adopt(data.series, data.events_total)) {
    drawChart()
  } else if (typeof data.events_total === 'number') {
    const at = Date.parse(timestamp)
    series.record(data.events_total, Number.isNaN(at) ? Date.now() : at)
    drawChart()
  }
}

/** Shows a recognition on its card unless a newer one is there already (from the feed, or a later snapshot). */
function showRecognition (person: unknown, camera: unknown, timestamp: unknown): void {
  const at = typeof timestamp === 'string' ? Date.parse(timestamp) : NaN
  if (!Number.isNaN(at) && at < shownRecognitionAt) return
  if (!Number.isNaN(at)) shownRecognitionAt = at
  setText('last-person', typeof person === 'string' && person !== '' ? person : 'Unknown person')
  setText('last-where', `${String(camera ?? '?')} · ${formatTime(String(timestamp ?? ''))}`)
}

function freshnessMode (): FreshnessMode {
  const status = client?.status
  return status === 'live' ? 'live' : status === 'polling' ? 'polling' : 'down'
}

/** "Stale since HH:MM" over the cards while they are not current; nothing while they are. */
function showFreshness (): void {
  const { since, reason } = freshness.check(Date.now(), freshnessMode(), timingOverrides().pollIntervalMs ?? DEFAULT_TIMINGS.pollIntervalMs)
  if (since === null) {
    if (!staleBanner.hidden) {
      staleBanner.hidden = true
      staleBanner.textContent = ''
      delete statistics.dataset.stale
    }
    return
  }
  const text = `Stale since ${formatMinute(since)}: ${reason}. The numbers below are the last known.`
  if (staleBanner.textContent !== text) staleBanner.textContent = text
  staleBanner.hidden = false
  statistics.dataset.stale = ''
}

function drawChart (): void {
  chartSummary.textContent = renderBarChart(chart, series.window(Date.now()))
}

function announce (text: string): void {
  announcer.textContent = text
}

function showTokenPanel (message: string, refused: boolean): void {
  tokenMessage.textContent = message
  if (refused) tokenPanel.dataset.refused = ''
  else delete tokenPanel.dataset.refused
  tokenPanel.hidden = false
  tokenInput.focus()
}

function start (token: string): void {
  client?.close()
  tokenPanel.hidden = true
  const next = connect({ token, ...timingOverrides() })
  client = next
  showStatus(next.status, null)
  cameras.attach(next)
  breakdown.attach(next)
  next.on('status', ({ status, reason }) => {
    if (client !== next) return
    showStatus(status, reason)
    showFreshness()
    if (status === 'unauthorized') {
      forgetToken()
      showTokenPanel(`The service refused the token: ${reason ?? 'unauthorized'}. Paste a new one.`, true)
    }
  })
  next.on('message', showLastUpdate)
  next.on('statistics_update', message => {
    freshness.statistics(message.timestamp, message.data, Date.now())
    showStatistics(message.data, message.timestamp)
    showFreshness()
  })
  next.on('connection_status', status => {
    if (status.status === 'connected') {
      freshness.setInterval(status.stats_interval_ms)
      freshness.connected()
      replaying = next.lastSeq !== null
    }
    if (status.status === 'resumed' || status.status === 'resync_required') replaying = false
  })
  next.on('camera_event', event => {
    feed.addEvent(event)
    if (!replaying) freshness.event(Date.now())
    // The card follows the feed at once, not a statistics interval later.
    if (event.event_type === 'face_recognized') showRecognition(event.data?.person_name, event.camera_id, event.timestamp)
  })
  next.on('alert', alert => {
    feed.addAlert(alert)
    alerts.add(alert)
    if (alert.level !== 'info') announce(`${alert.level} alert: ${alert.message}`)
  })
  next.on('gap', gap => { feed.addGap(gap.from, gap.to) })
  // Admins see who is online: asked for again on every connection (the snapshot replaces the list).
  const admin = tokenRoles(token).includes('admin')
  online.show(admin)
  if (admin) {
    next.on('connection_status', status => {
      if (client === next && status.status === 'connected') next.send({ type: 'subscribe', event_types: ['presence'] })
    })
    next.on('presence', message => { online.replace(message.users) })
    next.on('user_status_change', change => { online.change(change.user_id, change.online, change.timestamp) })
  }
  // The statistics_update that follows shows the current numbers; the feed
  // is marked as incomplete.
  next.on('resync', () => { feed.addResync() })
}

tokenForm.addEventListener('submit', event => {
  event.preventDefault()
  const token = tokenInput.value.trim()
  if (token === '') return
  tokenInput.value = ''
  saveToken(token)
  start(token)
})

byId('change-token').addEventListener('click', () => {
  showTokenPanel('Paste another access token to reconnect with it.', false)
})

new ResizeObserver(() => { drawChart() }).observe(chart)
// The window moves on even when nothing happens.
setInterval(drawChart, 15_000)
// The countdown to the next reconnect attempt, and whether the statistics went stale.
setInterval(() => {
  if (client !== null && (client.status === 'connecting' || client.status === 'polling')) showStatus(client.status, client.reason)
  showFreshness()
}, 1000)
drawChart()

const token = takeTokenFromAddressBar() ?? savedToken()
if (token === null) {
  showStatus('offline', 'No token yet: paste one below.')
  showTokenPanel('Paste an access token (a JWT for this service) to see the live statistics.', false)
} else {
  start(token)
}
