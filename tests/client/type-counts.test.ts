import t from 'tap'
import { typeRows } from '../../public/lib/type-counts.js'

t.test('events_by_type: busiest first, with shares; nothing to draw when nothing was counted', async t => {
  t.same(typeRows({ motion_detected: 3, face_recognized: 1 }), [
    { type: 'motion_detected', label: 'Motion detected', count: 3, share: 0.75 },
    { type: 'face_recognized', label: 'Face recognized', count: 1, share: 0.25 }
  ])
  t.same(typeRows({}), [])
  t.same(typeRows({ motion: 0 }), [], 'zero counts are no rows')
  t.same(typeRows(null), [])
  t.same(typeRows({ motion: 'many', other: -1 }), [], 'what is not a count is skipped')
})

t.test('past the limit the quietest types share one row', async t => {
  const byType = { a: 5, b: 4, c: 3, d: 2, e: 1 }
  const rows = typeRows(byType, 3)
  t.same(rows.map(row => [row.label, row.count]), [['A', 5], ['B', 4], ['Other types (3)', 6]])
  t.equal(rows.reduce((sum, row) => sum + row.count, 0), 15, 'every event is in a row')
  t.equal(typeRows(byType, 5).length, 5, 'at the limit every type has its row')
})
