/** A copy of an object with its own keys in code-point order (values untouched). */
export function sortedKeys<T> (object: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(object).sort().map(key => [key, object[key]]))
}

/** JSON as the committed documents are written: two-space indent, final newline. */
export function documentText (document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`
}
