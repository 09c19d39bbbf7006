import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

type Arg = string | number

/** Every script of the service, so that an instance can load them all before it serves. */
const scripts = new Set<Script>()

/**
 * A Lua script run by its SHA1, loaded again when Redis does not know it
 * (after a Redis restart emptied the script cache).
 *
 * The fallback sends the script a second time after its NOSCRIPT answer, so
 * commands sent meanwhile on the same connection run first: a connection's
 * release could then run after the refresh that counts its slots. Loading
 * every script up front (`loadScripts`) keeps the first use in order.
 */
export class Script {
  readonly #lua: string
  readonly #sha: string

  constructor (lua: string) {
    this.#lua = lua
    this.#sha = createHash('sha1').update(lua).digest('hex')
    scripts.add(this)
  }

  get sha (): string { return this.#sha }

  async load (client: Redis): Promise<void> {
    await client.script('LOAD', this.#lua)
  }

  async run (client: Redis, keys: readonly string[], args: readonly Arg[] = []): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (!(err as Error).message.startsWith('NOSCRIPT')) throw err
      return await client.eval(this.#lua, keys.length, ...keys, ...args)
    }
  }
}

/** Loads every script into Redis's script cache, so none is first run through the NOSCRIPT fallback. */
export async function loadScripts (client: Redis): Promise<void> {
  await Promise.all([...scripts].map(async script => { await script.load(client) }))
}
