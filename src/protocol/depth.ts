/**
 * The deepest nesting of objects and arrays a published `data` may have.
 * JSON.parse reads any depth, but JSON.stringify and every consumer after it
 * recurse: a 20,000-deep value overflows the stack wherever it is encoded.
 * 32 levels is far more than any dashboard payload needs.
 */
export const MAX_DATA_DEPTH = 32

/**
 * Whether `value` nests objects and arrays more than `limit` levels deep
 * (`{}` and `[]` are one level, a scalar none). Walks with an explicit
 * stack, never recursion, so no input can overflow the call stack; it stops
 * at the first container beyond the limit.
 */
export function exceedsDepth (value: unknown, limit: number): boolean {
  const values: unknown[] = [value]
  const depths: number[] = [1]
  while (values.length > 0) {
    const current = values.pop()
    const depth = depths.pop() as number
    if (current === null || typeof current !== 'object') continue
    if (depth > limit) return true
    const children = Array.isArray(current) ? current : Object.values(current)
    for (const child of children) {
      if (child !== null && typeof child === 'object') {
        values.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return false
}
