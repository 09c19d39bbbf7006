/**
 * Prints the README's configuration table (and the deprecated names below
 * it) from the settings in src/config/settings.ts:
 *
 *   npm run config:table
 *
 * tests/config/readme.test.ts fails when the README's table differs.
 */
import { configTable } from '../src/config/readme-table.js'

console.log(configTable())
