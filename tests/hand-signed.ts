import { createHmac } from 'node:crypto'
import { TEST_SECRET } from './helper.js'

/**
 * An HS256 token over a payload given as raw JSON text, signed by hand: the
 * signer refuses claims such as `"exp": 1e309` (Infinity once parsed) or
 * 9e15, and a client can still send them.
 */
export function signRaw (payloadJson: string, key: string = TEST_SECRET): string {
  const input = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(payloadJson).toString('base64url')}`
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`
}

/** Seconds since the epoch, one hour from now. */
export const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600
