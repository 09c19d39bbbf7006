import { MAX_DATA_DEPTH } from '../../protocol/depth.js'

/**
 * Limits for JSON from outside the service (an upstream endpoint). The
 * service serializes what it gathers again (change detection, the pushed
 * frame, the HTTP answer); JSON.stringify recurses, so a value nested
 * thousands of levels deep, which JSON.parse accepts, would throw there.
 * Such text is refused before it is parsed.
 */

/** The deepest nesting of arrays and objects accepted from outside: the same bound as published `data`. */
export const MAX_JSON_DEPTH = MAX_DATA_DEPTH

/**
 * The deepest nesting of arrays/objects in JSON text, stopping as soon as
 * it passes `limit` (so hostile text costs at most one pass). Brackets
 * inside strings do not count. Iterative: any depth is safe to measure.
 */
export function jsonDepth (text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
      continue
    }
    if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) { // [ {
      depth++
      if (depth > deepest) {
        deepest = depth
        if (deepest > limit) return deepest
      }
    } else if (c === 0x5d || c === 0x7d) { // ] }
      depth--
    }
  }
  return deepest
}
