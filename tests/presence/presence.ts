import type { Client } from '../helper.js'

/** Shared steps of the presence tests (both modes). */

export type Message = Record<string, unknown>

export const ADMIN = { roles: ['admin'] }

export interface Snapshot {
  users: Array<{ user_id: string, connections: number, since: string }>
  count: number
  /** The `subscribed` answer's event types (it comes first: the snapshot is read after). */
  subscribed: string[]
}

/** Subscribes a client to presence and returns the snapshot. */
export async function watchPresence (client: Client): Promise<Snapshot> {
  client.send({ type: 'subscribe', event_types: ['presence'] })
  const subscribed = await client.nextOfType('subscribed')
  const snapshot = await client.nextOfType('presence')
  return { ...snapshot, subscribed: subscribed.event_types } as never
}

/** The next `user_status_change` for one user. */
export async function statusOf (client: Client, userId: string): Promise<Message> {
  return await client.next(message => message.type === 'user_status_change' && message.user_id === userId)
}

/** Every `user_status_change` the client received for one user so far. */
export function changesOf (client: Client, userId: string): Message[] {
  return client.messages.filter(message => message.type === 'user_status_change' && message.user_id === userId)
}
