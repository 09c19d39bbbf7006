import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

type Arg = string | number

/**
 * A Lua script run by its SHA1, loaded again when Redis does not know it
 * (first use, or after a Redis restart emptied the script cache).
 */
export class Script {
  readonly #lua: string
  readonly #sha: string

  constructor (lua: string) {
    this.#lua = lua
    this.#sha = createHash('sha1').update(lua).digest('hex')
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
