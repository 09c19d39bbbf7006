/**
 * Command-line options for the scripts in scripts/ and bench/, declared once:
 * the declarations give the parsing (node:util parseArgs), the checks
 * (numbers, ranges, choices) and the --help text, so the three cannot drift.
 *
 * A mistake ends the script before it starts anything, with ONE line on
 * stderr that names the option and what it expects, and exit code 2:
 *
 *   soak: --connections expects a whole number from 1 to 9000, got "abc"
 *
 * `--help` (or `-h`) prints the usage on stdout and exits 0.
 */
import { parseArgs } from 'node:util'

interface Common {
  /** One line for --help. */
  help: string
  short?: string
  /** The value's placeholder in --help, e.g. `<url>`; derived from the type when absent. */
  arg?: string
}
export type OptionSpec =
  | Common & { type: 'boolean' }
  | Common & { type: 'string', default?: string }
  /** `min`/`max` are inclusive; `above` is an exclusive lower bound (e.g. minutes above 0). */
  | Common & { type: 'integer' | 'number', default?: number, min?: number, max?: number, above?: number }
  | Common & { type: 'enum', values: readonly string[], default?: string }
  /** Comma-separated whole numbers, e.g. --sizes 1000,5000. */
  | Common & { type: 'integers', default?: readonly number[], min?: number, max?: number }
  /** Comma-separated choices, e.g. --targets service,ws-reference. */
  | Common & { type: 'enums', values: readonly string[], default?: readonly string[] }
export type OptionSpecs = Record<string, OptionSpec>

type Parsed<S> = S extends { type: 'boolean' } ? boolean
  : S extends { type: 'integer' | 'number' } ? number
    : S extends { type: 'enum', values: ReadonlyArray<infer V> } ? V
      : S extends { type: 'integers' } ? number[]
        : S extends { type: 'enums', values: ReadonlyArray<infer V> } ? V[]
          : string
/** What parseCli returns: options with a default (and booleans) are always set. */
export type Values<O extends OptionSpecs> = {
  -readonly [K in keyof O]: O[K] extends { type: 'boolean' } ? boolean
    : O[K] extends { default: unknown } ? Parsed<O[K]> : Parsed<O[K]> | undefined
}

export interface Program<O extends OptionSpecs> {
  /** The script's name in messages, e.g. `soak`. */
  name: string
  /** How it is run, e.g. `npm run soak --`. */
  command: string
  /** What it does, a few lines for --help. */
  summary: string
  options: O
  /** Example invocations for --help. */
  examples?: string[]
}

/** A usage error: the script's name, then one line. Exit code 2, as for the options. */
export function usageError (name: string, message: string): never {
  console.error(`${name}: ${message}`)
  process.exit(2)
}

/**
 * Parses `argv` (default: the process's arguments) against `program.options`.
 * Prints the help and exits 0 on --help; prints one line and exits 2 on an
 * unknown option, a missing or malformed value, a number out of range or a
 * stray argument. Later checks (e.g. two options that do not go together)
 * report the same way with usageError.
 */
export function parseCli<const O extends OptionSpecs> (program: Program<O>, argv: string[] = process.argv.slice(2)): Values<O> {
  function fail (message: string): never {
    return usageError(program.name, message)
  }
  const seeHelp = `${program.command} --help lists the options`
  const nodeOptions: Record<string, { type: 'string' | 'boolean', short?: string }> = { help: { type: 'boolean', short: 'h' } }
  for (const [name, spec] of Object.entries(program.options)) {
    nodeOptions[name] = { type: spec.type === 'boolean' ? 'boolean' : 'string', ...(spec.short === undefined ? {} : { short: spec.short }) }
  }
  // Not strict: unknown options and stray arguments get this module's one-line message instead of parseArgs's.
  const { tokens } = parseArgs({ args: argv, options: nodeOptions, strict: false, allowPositionals: true, tokens: true })
  if (tokens.some(token => token.kind === 'option' && token.name === 'help')) {
    console.log(helpText(program))
    process.exit(0)
  }

  const raw = new Map<string, string | true>()
  for (const token of tokens) {
    if (token.kind === 'positional') fail(`unexpected argument ${JSON.stringify(token.value)}; ${seeHelp}`)
    if (token.kind !== 'option') continue
    const spec: OptionSpec | undefined = program.options[token.name]
    if (spec === undefined) return fail(`unknown option ${token.rawName}; ${seeHelp}`)
    if (spec.type === 'boolean') {
      if (token.value !== undefined) fail(`--${token.name} takes no value (got ${JSON.stringify(token.value)})`)
      raw.set(token.name, true)
      continue
    }
    // `--ttl --user bob`: the value was forgotten. A negative number (`--x -5`) is a value, checked below.
    if (token.value === undefined || (token.inlineValue !== true && /^-[^\d.]/.test(token.value))) return fail(`--${token.name} expects ${expects(spec)}`)
    raw.set(token.name, token.value)
  }

  const values: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(program.options)) {
    const given = raw.get(name)
    if (spec.type === 'boolean') values[name] = given === true
    else if (given === undefined) values[name] = 'default' in spec ? spec.default : undefined
    else {
      const value = convert(spec, given as string)
      if (value === undefined) fail(`--${name} expects ${expects(spec)}, got ${JSON.stringify(given)}`)
      values[name] = value
    }
  }
  return values as Values<O>
}

const NUMBER = /^[+-]?(\d[\d_]*(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i

/** The value, or undefined when it is not what `spec` expects. */
function convert (spec: Exclude<OptionSpec, { type: 'boolean' }>, text: string): unknown {
  switch (spec.type) {
    case 'string':
      return text
    case 'enum':
      return spec.values.includes(text) ? text : undefined
    case 'enums': {
      const items = text.split(',').map(item => item.trim())
      return items.every(item => spec.values.includes(item)) ? items : undefined
    }
    case 'integers': {
      const items = text.split(',').map(item => toNumber(item.trim(), true, spec.min, spec.max, undefined))
      return items.every(item => item !== undefined) ? items : undefined
    }
    default:
      return toNumber(text.trim(), spec.type === 'integer', spec.min, spec.max, spec.above)
  }
}

function toNumber (text: string, integer: boolean, min?: number, max?: number, above?: number): number | undefined {
  // Not Number() alone: it reads '' as 0 and '0x10' as 16.
  if (!NUMBER.test(text)) return undefined
  const value = Number(text.replaceAll('_', ''))
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) return undefined
  if ((min !== undefined && value < min) || (max !== undefined && value > max) || (above !== undefined && value <= above)) return undefined
  return value
}

function range (min?: number, max?: number, above?: number): string {
  const lower = above !== undefined ? `above ${above}` : min !== undefined ? `from ${min}` : ''
  if (max === undefined) return lower === '' ? '' : ` ${lower.replace('from', 'of at least')}`
  return lower === '' ? ` of at most ${max}` : above !== undefined ? ` ${lower} and at most ${max}` : ` ${lower} to ${max}`
}

/** What an option expects, for messages and --help: "a whole number from 1 to 9000". */
function expects (spec: Exclude<OptionSpec, { type: 'boolean' }>): string {
  switch (spec.type) {
    case 'string':
      return `a value (${spec.help})`
    case 'enum':
      return `one of ${spec.values.join(', ')}`
    case 'enums':
      return `one or more of ${spec.values.join(', ')}, separated by commas`
    case 'integers':
      return `whole numbers${range(spec.min, spec.max)}, separated by commas`
    default:
      return `${spec.type === 'integer' ? 'a whole number' : 'a number'}${range(spec.min, spec.max, spec.above)}`
  }
}

function placeholder (spec: OptionSpec): string {
  if (spec.type === 'boolean') return ''
  if (spec.arg !== undefined) return ` ${spec.arg}`
  if (spec.type === 'enum') return ` ${spec.values.join('|')}`
  return { string: ' <value>', integer: ' <n>', number: ' <n>', integers: ' <n,n,...>', enums: ' <a,b,...>' }[spec.type]
}

function defaultText (spec: OptionSpec): string {
  if (!('default' in spec) || spec.default === undefined) return ''
  const value = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)
  return `default ${value === '' ? '""' : value}`
}

/** The --help text, from the same declarations as the parsing. */
export function helpText<O extends OptionSpecs> (program: Program<O>): string {
  const rows: Array<[string, string]> = Object.entries(program.options).map(([name, spec]) => {
    const details = [spec.type === 'boolean' || spec.type === 'string' ? '' : expects(spec), defaultText(spec)].filter(part => part !== '').join('; ')
    return [`${spec.short === undefined ? '    ' : `-${spec.short}, `}--${name}${placeholder(spec)}`, details === '' ? spec.help : `${spec.help} [${details}]`]
  })
  rows.push(['-h, --help', 'print this help and exit'])
  const width = Math.min(32, Math.max(...rows.map(([left]) => left.length)))
  const lines = [`usage: ${program.command} [options]`, '', program.summary.trim(), '', 'options:']
  for (const [left, right] of rows) {
    lines.push(left.length > width ? `  ${left}\n  ${' '.repeat(width)}  ${right}` : `  ${left.padEnd(width)}  ${right}`)
  }
  if (program.examples !== undefined && program.examples.length > 0) lines.push('', 'examples:', ...program.examples.map(example => `  ${example}`))
  return lines.join('\n')
}
