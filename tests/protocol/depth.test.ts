import t from 'tap'
import { exceedsDepth, MAX_DATA_DEPTH } from '../../src/protocol/depth.js'

/** `levels` nested arrays (`[]` is one level), built without recursion. */
function nestedArrays (levels: number): unknown {
  let value: unknown[] = []
  for (let i = 1; i < levels; i++) value = [value]
  return value
}

t.test('a scalar has no depth, so it never exceeds any limit', async t => {
  for (const scalar of [null, 0, 'text', true, undefined]) t.notOk(exceedsDepth(scalar, 0), String(scalar))
})

t.test('an empty object or array is one level deep', async t => {
  t.notOk(exceedsDepth({}, 1))
  t.notOk(exceedsDepth([], 1))
  t.ok(exceedsDepth({}, 0))
  t.ok(exceedsDepth([], 0))
})

t.test('a value exactly at the limit passes and one level more does not', async t => {
  t.notOk(exceedsDepth(nestedArrays(MAX_DATA_DEPTH), MAX_DATA_DEPTH))
  t.ok(exceedsDepth(nestedArrays(MAX_DATA_DEPTH + 1), MAX_DATA_DEPTH))
})

t.test('objects and arrays count alike, and only the deepest branch matters', async t => {
  const value = { a: 1, b: [{ c: [] }], d: { e: 'x' } } // b → [ → { → [ : four levels
  t.notOk(exceedsDepth(value, 4))
  t.ok(exceedsDepth(value, 3))
})

t.test('scalars and nulls inside containers add no level', async t => {
  t.notOk(exceedsDepth({ a: null, b: [1, 'two', null, false] }, 2))
  t.ok(exceedsDepth({ a: null, b: [1, 'two', null, false] }, 1))
})

t.test('a very wide but shallow value does not exceed', async t => {
  const wide = Array.from({ length: 100_000 }, (_, i) => ({ i }))
  t.notOk(exceedsDepth(wide, 2))
})

t.test('a million levels are measured without overflowing the call stack', async t => {
  t.ok(exceedsDepth(nestedArrays(1_000_000), MAX_DATA_DEPTH))
})
