/**
 * Reads a published `timestamp` into the protocol's form (ISO-8601 in UTC,
 * milliseconds), for every string the JSON-schema `date-time` format
 * accepts. That format is wider than what `Date` parses: it admits leap
 * seconds (`23:59:60`, whose instant `Date` cannot name), a lower-case `t`
 * or `z`, a space for the `T`, offsets without a colon or minutes, and
 * offsets that push a year-0000 or year-9999 time out of four-digit years.
 * So this parses the fields itself and never relies on `Date.parse`.
 *
 * A leap second is accepted and written as 23:59:59.999 of its minute: the
 * latest instant `Date` can express that is still in that minute, so events
 * keep their order around it.
 */

export type TimestampResult = { ok: true, iso: string } | { ok: false, message: string }

// The grammar of ajv-formats' `date-time` (RFC 3339 with its relaxations).
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt\s](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)$/
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const MINUTES_PER_DAY = 24 * 60

function daysIn (year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  return month === 2 && leap ? 29 : DAYS[month - 1]
}

const EXAMPLE = 'an ISO-8601 date-time such as 2026-01-31T12:00:00Z'

/** `field` names the value in messages ("body.timestamp"). */
export function toUtcTimestamp (text: string, field = 'timestamp'): TimestampResult {
  const match = DATE_TIME.exec(text)
  if (match === null) return { ok: false, message: `${field} must be ${EXAMPLE}` }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number)
  const fraction = match[7] ?? ''
  const sign = match[8] === '-' ? -1 : 1
  const offsetHours = Number(match[9] ?? 0)
  const offsetMinutes = Number(match[10] ?? 0)
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
    return { ok: false, message: `${field} names a day that does not exist; send ${EXAMPLE}` }
  }
  if (offsetHours > 23 || offsetMinutes > 59) {
    return { ok: false, message: `${field} has an offset beyond ±23:59; send ${EXAMPLE}` }
  }
  const offset = sign * (offsetHours * 60 + offsetMinutes)
  const localMinute = hour * 60 + minute
  let ms: number
  if (second === 60) {
    // A leap second exists only in the last minute of a UTC day.
    const utcMinute = ((localMinute - offset) % MINUTES_PER_DAY + MINUTES_PER_DAY) % MINUTES_PER_DAY
    if (minute > 59 || utcMinute !== MINUTES_PER_DAY - 1) {
      return { ok: false, message: `${field} has second 60, which only a leap second at 23:59 UTC may have` }
    }
    ms = 59_999
  } else {
    if (hour > 23 || minute > 59 || second > 59) return { ok: false, message: `${field} has a time of day out of range; send ${EXAMPLE}` }
    ms = second * 1000 + Number(fraction.slice(0, 3).padEnd(3, '0'))
  }
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear takes the year as it is.
  const start = new Date(0)
  start.setUTCFullYear(year, month - 1, day)
  const instant = new Date(start.getTime() + (localMinute - offset) * 60_000 + ms)
  const utcYear = instant.getUTCFullYear()
  if (utcYear < 0 || utcYear > 9999) {
    return { ok: false, message: `${field} falls outside the years 0000 to 9999 once converted to UTC; send a time within them` }
  }
  return { ok: true, iso: instant.toISOString() }
}
