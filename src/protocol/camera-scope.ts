/**
 * Which cameras a token's holder may see: the `cameras` claim, a list of
 * camera ids and prefix patterns ending in `*` (`"lobby-1"`, `"site-a/*"`,
 * `"*"`). A scope is immutable and has a canonical `key`, so connections
 * that share a scope share one statistics view and one answer per message.
 */

/** The most entries a `cameras` claim may hold. */
export const MAX_SCOPE_ENTRIES = 256
/** The longest entry of a `cameras` claim. */
export const MAX_SCOPE_ENTRY_LENGTH = 128

export class CameraScope {
  /** Every camera: the scope of a token without a `cameras` claim (unless REQUIRE_CAMERA_SCOPE). */
  static readonly ALL = new CameraScope(new Set(), [], true)
  /** No camera at all. */
  static readonly NONE = new CameraScope(new Set(), [], false)

  /** True when every camera is admitted. */
  readonly all: boolean
  /** Canonical text of the scope: equal scopes have equal keys. `*` for every camera. */
  readonly key: string
  readonly #ids: ReadonlySet<string>
  readonly #prefixes: readonly string[]

  private constructor (ids: ReadonlySet<string>, prefixes: readonly string[], all: boolean) {
    this.#ids = ids
    this.#prefixes = prefixes
    this.all = all
    this.key = all ? '*' : [...[...ids].sort(), ...prefixes.map(prefix => `${prefix}*`).sort()].join('\n')
  }

  /** Builds a scope from entries already checked by `readCameraClaim`. */
  static of (entries: readonly string[]): CameraScope {
    if (entries.includes('*')) return CameraScope.ALL
    if (entries.length === 0) return CameraScope.NONE
    const ids = new Set<string>()
    const prefixes = new Set<string>()
    for (const entry of entries) {
      if (entry.endsWith('*')) prefixes.add(entry.slice(0, -1))
      else ids.add(entry)
    }
    return new CameraScope(ids, [...prefixes], false)
  }

  /** Whether the holder may see this camera. */
  admits (cameraId: string): boolean {
    if (this.all) return true
    if (this.#ids.has(cameraId)) return true
    for (const prefix of this.#prefixes) if (cameraId.startsWith(prefix)) return true
    return false
  }

  /** The entries as the claim would write them (for messages and logs). */
  toJSON (): string[] {
    return this.all ? ['*'] : [...this.#ids, ...this.#prefixes.map(prefix => `${prefix}*`)]
  }
}

export type CameraClaim =
  | { ok: true, scope: CameraScope }
  | { ok: false, reason: string }

/**
 * Reads a token's `cameras` claim. Missing: every camera, or none when the
 * service requires a scope. Anything but an array of at most 256 non-empty
 * strings of at most 128 characters is refused with a reason that names the
 * claim (it becomes a 4401 close reason, so it stays short).
 */
export function readCameraClaim (claim: unknown, required: boolean): CameraClaim {
  if (claim === undefined) return { ok: true, scope: required ? CameraScope.NONE : CameraScope.ALL }
  if (!Array.isArray(claim) || claim.length > MAX_SCOPE_ENTRIES ||
    !claim.every(entry => typeof entry === 'string' && entry.length > 0 && entry.length <= MAX_SCOPE_ENTRY_LENGTH)) {
    return { ok: false, reason: `invalid token: the cameras claim must be an array of 1-${MAX_SCOPE_ENTRY_LENGTH} char strings, at most ${MAX_SCOPE_ENTRIES}` }
  }
  return { ok: true, scope: CameraScope.of(claim as string[]) }
}
