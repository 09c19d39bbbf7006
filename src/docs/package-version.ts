import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

/**
 * The service's version from its package.json, found by walking up from
 * this file: the sources (src/docs/) and the build (dist/src/docs/) sit at
 * different depths.
 */
export function packageVersion (): string {
  if (cached !== undefined) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'statistics-push-service' && typeof pkg.version === 'string') return (cached = pkg.version)
    }
    const parent = dirname(dir)
    if (parent === dir) return (cached = '0.0.0')
    dir = parent
  }
}
