import t from 'tap'
import { toUtcTimestamp } from '../../src/protocol/timestamp.js'

function iso (text: string): string | undefined {
  const result = toUtcTimestamp(text)
  return result.ok ? result.iso : undefined
}

function refusal (text: string, field?: string): string {
  const result = toUtcTimestamp(text, field)
  return result.ok ? `accepted as ${result.iso}` : result.message
}

t.test('a UTC time is written back with milliseconds', async t => {
  t.equal(iso('2026-01-31T12:00:00Z'), '2026-01-31T12:00:00.000Z')
  t.equal(iso('2026-01-31T12:00:00.5Z'), '2026-01-31T12:00:00.500Z')
})

t.test('a fraction finer than milliseconds is cut, not rounded', async t => {
  t.equal(iso('2026-01-31T12:00:00.123999Z'), '2026-01-31T12:00:00.123Z')
})

t.test('an offset is converted to UTC, with or without a colon or minutes', async t => {
  t.equal(iso('2026-01-31T12:00:00+02:00'), '2026-01-31T10:00:00.000Z')
  t.equal(iso('2026-01-31T12:00:00+0200'), '2026-01-31T10:00:00.000Z')
  t.equal(iso('2026-01-31T12:00:00+02'), '2026-01-31T10:00:00.000Z')
  t.equal(iso('2026-01-31T00:30:00-05:45'), '2026-01-31T06:15:00.000Z')
})

t.test('an offset can move the time into another day, month or year', async t => {
  t.equal(iso('2026-01-01T01:00:00+02:00'), '2025-12-31T23:00:00.000Z')
  t.equal(iso('2026-02-28T23:00:00-02:00'), '2026-03-01T01:00:00.000Z')
})

t.test('a lower-case t or z and a space for the T are accepted', async t => {
  t.equal(iso('2026-01-31t12:00:00z'), '2026-01-31T12:00:00.000Z')
  t.equal(iso('2026-01-31 12:00:00Z'), '2026-01-31T12:00:00.000Z')
})

t.test('years below 100 stay as they are (Date.UTC would make them 19xx)', async t => {
  t.equal(iso('0050-06-01T00:00:00Z'), '0050-06-01T00:00:00.000Z')
  t.equal(iso('0000-01-01T00:00:00Z'), '0000-01-01T00:00:00.000Z')
  t.equal(iso('9999-12-31T23:59:59.999Z'), '9999-12-31T23:59:59.999Z')
})

t.test('a leap second at 23:59 UTC is written as the last millisecond of its minute', async t => {
  t.equal(iso('2016-12-31T23:59:60Z'), '2016-12-31T23:59:59.999Z')
  t.equal(iso('2016-12-31T23:59:60.5Z'), '2016-12-31T23:59:59.999Z', 'its fraction cannot be kept')
  t.equal(iso('2017-01-01T01:59:60+02:00'), '2016-12-31T23:59:59.999Z', 'the minute is 23:59 in UTC, not locally')
})

t.test('second 60 anywhere but 23:59 UTC is refused', async t => {
  t.match(refusal('2016-12-31T12:00:60Z'), /second 60, which only a leap second at 23:59 UTC may have/)
  t.match(refusal('2016-12-31T23:59:60+02:00'), /second 60/, '23:59 locally is 21:59 UTC')
})

t.test('days that do not exist are refused, leap years included', async t => {
  t.equal(iso('2024-02-29T00:00:00Z'), '2024-02-29T00:00:00.000Z')
  t.equal(iso('2000-02-29T00:00:00Z'), '2000-02-29T00:00:00.000Z', 'every 400 years is a leap year')
  t.match(refusal('2026-02-29T00:00:00Z'), /names a day that does not exist/)
  t.match(refusal('1900-02-29T00:00:00Z'), /names a day that does not exist/, 'a century is not a leap year')
  t.match(refusal('2026-04-31T00:00:00Z'), /names a day that does not exist/)
  t.match(refusal('2026-13-01T00:00:00Z'), /names a day that does not exist/)
  t.match(refusal('2026-00-10T00:00:00Z'), /names a day that does not exist/)
  t.match(refusal('2026-01-00T00:00:00Z'), /names a day that does not exist/)
})

t.test('a time of day out of range is refused', async t => {
  t.match(refusal('2026-01-31T24:00:00Z'), /time of day out of range/)
  t.match(refusal('2026-01-31T12:60:00Z'), /time of day out of range/)
})

t.test('an offset beyond ±23:59 is refused', async t => {
  t.match(refusal('2026-01-31T12:00:00+24:00'), /offset beyond ±23:59/)
  t.match(refusal('2026-01-31T12:00:00-01:60'), /offset beyond ±23:59/)
})

t.test('a time that leaves the years 0000 to 9999 once in UTC is refused', async t => {
  t.match(refusal('0000-01-01T00:00:00+01:00'), /outside the years 0000 to 9999/)
  t.match(refusal('9999-12-31T23:30:00-01:00'), /outside the years 0000 to 9999/)
})

t.test('text that is not a date-time is refused with an example', async t => {
  for (const text of ['', 'yesterday', '2026-01-31', '2026-01-31T12:00Z', '2026-01-31T12:00:00', '2026-1-31T12:00:00Z', ' 2026-01-31T12:00:00Z']) {
    t.match(refusal(text), /must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z/, JSON.stringify(text))
  }
})

t.test('every refusal names the field it was given', async t => {
  t.match(refusal('nope', 'body.timestamp'), /^body\.timestamp must be/)
  t.match(refusal('2026-02-30T00:00:00Z', 'body.timestamp'), /^body\.timestamp names a day/)
  t.match(refusal('nope'), /^timestamp must be/, 'the default name')
})
