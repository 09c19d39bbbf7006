import { readFileSync } from 'node:fs'
import t from 'tap'
import { configRows, configTable } from '../../src/config/readme-table.js'

const README = new URL('../../README.md', import.meta.url)

/** Splits a Markdown table row into its cells (`\|` is a pipe inside a cell). */
function cells (line: string): string[] {
  return line.trim().replace(/^\||\|$/g, '').split(/(?<!\\)\|/).map(cell => cell.trim().replace(/\\\|/g, '|'))
}

/** The rows of the `| Variable | Default | Meaning |` table under "## Configuration". */
function readmeRows (readme: string): Map<string, string> {
  const section = readme.split(/^## /m).find(part => part.startsWith('Configuration\n'))
  if (section === undefined) throw new Error('README.md has no "## Configuration" section')
  const lines = section.split('\n')
  const header = lines.findIndex(line => /^\|\s*Variable\s*\|\s*Default\s*\|\s*Meaning\s*\|\s*$/.test(line))
  if (header === -1) throw new Error('the "## Configuration" section has no "| Variable | Default | Meaning |" table')
  const rows = new Map<string, string>()
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break
    const [variable, defaultCell] = cells(line)
    rows.set(variable.replace(/`/g, ''), defaultCell)
  }
  return rows
}

t.test('the README\'s configuration table lists every variable of the schema, with its default, and no other', async t => {
  const documented = readmeRows(readFileSync(README, 'utf8'))
  const schema = new Map(configRows().map(row => [row.variable, row.default]))
  const missing = [...schema.keys()].filter(name => !documented.has(name))
  const unknown = [...documented.keys()].filter(name => !schema.has(name))
  const defaults = [...schema].filter(([name, value]) => documented.has(name) && documented.get(name) !== value)
    .map(([name, value]) => `${name} (README: ${JSON.stringify(documented.get(name))}, schema: ${JSON.stringify(value)})`)
  const differences = [
    missing.length > 0 ? `in the schema but not in the README: ${missing.join(', ')}` : '',
    unknown.length > 0 ? `in the README but not in the schema: ${unknown.join(', ')}` : '',
    defaults.length > 0 ? `defaults that differ: ${defaults.join('; ')}` : ''
  ].filter(line => line !== '')
  t.same(differences, [], `README.md's configuration table and src/config/settings.ts disagree; \`npm run config:table\` prints the table to paste:\n${differences.join('\n')}`)
})

t.test('the printed table is one row per setting, in the README\'s format', async t => {
  const printed = readmeRows(`## Configuration\n\n${configTable()}\n`)
  t.same([...printed.keys()], configRows().map(row => row.variable))
  t.same([...printed.values()], configRows().map(row => row.default))
})
