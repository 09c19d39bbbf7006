/** Who a verified token belongs to. */
export interface Principal {
  userId: string
  roles: readonly string[]
  /** When the token expires (ms since the epoch), or null when it never does. */
  expiresAt: number | null
}

export type VerifyResult =
  | { ok: true, principal: Principal }
  | { ok: false, reason: string }
