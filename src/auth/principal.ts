import type { CameraScope } from '../protocol/camera-scope.js'

/** Who a verified token belongs to. */
export interface Principal {
  userId: string
  roles: readonly string[]
  /** When the token expires (ms since the epoch), or null when it never does. */
  expiresAt: number | null
  /** The cameras the holder may see (the `cameras` claim); every camera without one. */
  cameras: CameraScope
}

export type VerifyResult =
  | { ok: true, principal: Principal }
  | { ok: false, reason: string }
