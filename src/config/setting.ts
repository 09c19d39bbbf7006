/**
 * One environment variable: how it is read, its default, range, unit and
 * help text. The table in settings.ts is made of these, and everything else
 * (the Config type, validation, the README table) is derived from it.
 *
 * A table of our own rather than TypeBox: every value arrives as a string
 * that needs trimming and a precise message naming the variable and what is
 * expected, several defaults are derived at start-up (MAX_SOCKETS,
 * REQUIRE_TOKEN_EXP, the JWT key), and renamed variables keep their old
 * names as aliases. TypeBox would check the converted values but none of that.
 */

/** A value read from the environment, or what is wrong with it. */
export type Read<T> = { value: T } | { problem: string }

export interface Setting<T = unknown> {
  /** Reads a set (non-blank) value; `name` is the variable the operator used. */
  readonly read: (raw: string, name: string) => Read<T>
  /** The value when the variable is unset or blank. */
  readonly default: T
  /** The default as the README shows it. */
  readonly documentedDefault: string
  readonly help: string
  /** What one unit of the value is (milliseconds, bytes, …), for the docs. */
  readonly unit?: string
  readonly min?: number
  readonly max?: number
  /** Old names still accepted; each one used logs a deprecation warning. */
  readonly aliases?: readonly string[]
  /** The Config field, when it differs from the variable's name. */
  readonly field?: string
}

/** The type a setting reads to. */
export type ValueOf<S> = S extends Setting<infer T> ? T : never

interface Common {
  help: string
  aliases?: readonly string[]
}

const problem = (name: string, raw: string, text: string): { problem: string } => ({ problem: `${name}=${JSON.stringify(raw)} ${text}` })

interface Range {
  min: number
  max: number
  /** What one unit counts, as a plural noun ("milliseconds", "requests per minute"). */
  unit: string
  /** Added to the message for a bad value, e.g. what 0 means. */
  note?: string
}

/**
 * A whole number in [min, max]. `derived` (instead of `default`) documents
 * a default computed at start-up; the value is then null when unset.
 */
export function int (options: Common & Range & { default: number }): Setting<number>
export function int (options: Common & Range & { derived: string }): Setting<number | null>
export function int (options: Common & Range & { default?: number, derived?: string }): Setting<number | null> {
  const { min, max, unit, note } = options
  const expected = `expected ${unit} between ${min} and ${max}${note === undefined ? '' : `, ${note}`}`
  return {
    ...options,
    default: options.default ?? null,
    documentedDefault: options.derived ?? `\`${options.default!}\``,
    read (raw, name) {
      const text = raw.trim()
      if (!/^-?\d+$/.test(text)) return problem(name, raw, `is not a whole number; ${expected}`)
      const value = Number(text)
      if (value < min || value > max) return { problem: `${name}=${text} is out of range; ${expected}` }
      return { value }
    }
  }
}

/** true/false (also 1/0, yes/no). `derived` documents a default computed at start-up (null when unset). */
export function bool (options: Common & { default: boolean }): Setting<boolean>
export function bool (options: Common & { derived: string }): Setting<boolean | null>
export function bool (options: Common & { default?: boolean, derived?: string }): Setting<boolean | null> {
  return {
    ...options,
    default: options.default ?? null,
    documentedDefault: options.derived ?? `\`${String(options.default)}\``,
    read (raw, name) {
      const text = raw.trim().toLowerCase()
      if (['1', 'true', 'yes'].includes(text)) return { value: true }
      if (['0', 'false', 'no'].includes(text)) return { value: false }
      return problem(name, raw, 'is not a boolean; use true or false')
    }
  }
}

/** Free text, trimmed. */
export function text (options: Common & { default: string }): Setting<string> {
  return { ...options, documentedDefault: `\`${options.default}\``, read: raw => ({ value: raw.trim() }) }
}

/** One of `choices`, case-insensitive. */
export function oneOf (choices: readonly string[], options: Common & { default: string, what: string }): Setting<string> {
  return {
    ...options,
    documentedDefault: `\`${options.default}\``,
    read (raw, name) {
      const value = raw.trim().toLowerCase()
      if (choices.includes(value)) return { value }
      // A shortened or lengthened name (prod, dev, warning) gets the one it was probably meant to be.
      const near = value === '' ? undefined : choices.find(choice => choice.startsWith(value) || value.startsWith(choice))
      return problem(name, raw, `is not ${options.what}; use one of ${choices.join(', ')}${near === undefined ? '' : ` (did you mean ${near}?)`}`)
    }
  }
}

/**
 * Optional text taken as it is (a secret, a key, a URL to be checked by
 * `check`); null when unset. `documented` is the README's default cell.
 * A check's message must not repeat the value: it may be a secret.
 */
export function optional (options: Common & { documented?: string, trim?: boolean, check?: (value: string, name: string) => Read<string> }): Setting<string | null> {
  return {
    ...options,
    default: null,
    documentedDefault: options.documented ?? '',
    read (raw, name) {
      const value = options.trim === false ? raw : raw.trim()
      return options.check === undefined ? { value } : options.check(value, name)
    }
  }
}

/**
 * A comma-separated list; null when unset. `item` checks and normalizes one
 * entry. A list of only commas is refused unless `allowEmpty`.
 */
export function list (options: Common & { documented?: string, allowEmpty?: boolean, item?: (text: string, name: string) => Read<string> }): Setting<string[] | null> {
  return {
    ...options,
    default: null,
    documentedDefault: options.documented ?? '',
    read (raw, name) {
      const values: string[] = []
      const problems: string[] = []
      for (const part of raw.split(',')) {
        const text = part.trim()
        if (text === '') continue
        const read = options.item === undefined ? { value: text } : options.item(text, name)
        if ('value' in read) values.push(read.value)
        else problems.push(read.problem)
      }
      if (problems.length > 0) return { problem: problems.join('; ') }
      if (values.length === 0 && options.allowEmpty !== true) return problem(name, raw, 'names no value; give one or more, separated by commas, or leave it unset')
      return { value: values }
    }
  }
}

/** A setting whose Config field keeps an older name than its variable (code elsewhere reads the field). */
export function renamed<const F extends string, T> (field: F, setting: Setting<T>): Setting<T> & { readonly field: F } {
  return { ...setting, field }
}
