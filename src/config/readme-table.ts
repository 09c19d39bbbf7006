import type { Setting } from './setting.js'
import { SETTINGS } from './settings.js'

/** One row of the README's configuration table. */
export interface TableRow {
  variable: string
  default: string
  meaning: string
}

const escape = (cell: string): string => cell.replace(/\|/g, '\\|')

/** The configuration table's rows, from the settings. */
export function configRows (): TableRow[] {
  return Object.entries(SETTINGS as Record<string, Setting>).map(([name, setting]) => {
    const range = setting.unit === undefined ? '' : ` (${setting.unit}, ${setting.min ?? ''}–${setting.max ?? ''})`
    return { variable: name, default: setting.documentedDefault, meaning: `${setting.help}${range}` }
  })
}

/** The README's configuration table, and the deprecated names below it, as Markdown. */
export function configTable (): string {
  const lines = ['| Variable | Default | Meaning |', '| --- | --- | --- |']
  for (const row of configRows()) lines.push(`| \`${row.variable}\` | ${escape(row.default)} | ${escape(row.meaning)} |`)
  const renamed = Object.entries(SETTINGS as Record<string, Setting>)
    .flatMap(([name, setting]) => (setting.aliases ?? []).map(alias => `\`${alias}\` (now \`${name}\`)`))
  if (renamed.length > 0) {
    lines.push('', `Deprecated names, still read when the new one is unset, each with one warning at start-up: ${renamed.join(', ')}.`)
  }
  return lines.join('\n')
}
