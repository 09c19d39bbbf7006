/**
 * Prints the README's configuration table (and the deprecated names below
 * it) from the settings in src/config/settings.ts:
 *
 *   npm run config:table
 *
 * tests/config/readme.test.ts fails when the README's table differs.
 */
import { configTable } from '../src/config/readme-table.js'
import { parseCli } from './lib/cli.js'

parseCli({
  name: 'config:table',
  command: 'npm run config:table --',
  summary: `Prints the README's configuration table (Markdown) from src/config/settings.ts.
It takes no options; paste the output into README.md's "## Configuration" section.`,
  options: {}
})

console.log(configTable())
