import { createPublicKey } from 'node:crypto'

/** The development secret used when JWT_SECRET is unset outside production. */
export const DEVELOPMENT_JWT_SECRET = 'development-secret-do-not-use-in-production'

/** The shortest JWT_SECRET production accepts (the HS256 key size); shorter ones are a warning elsewhere. */
export const MIN_SECRET_BYTES = 32

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256'

export interface JwtKey {
  /** The algorithm that fits the key; the only one the service accepts. */
  algorithm: JwtAlgorithm
  /** HS256: the shared secret; RS256/ES256: the PEM public key. */
  key: string
  /** True when the fixed development secret is in use. */
  development: boolean
}

/**
 * The token key from JWT_SECRET or JWT_PUBLIC_KEY (null when unset): exactly
 * one of them, and in production one of them must be set.
 */
export function readJwtKey (secret: string | null, publicKey: string | null, nodeEnv: string, problems: string[], warnings: string[] = []): JwtKey {
  if (secret !== null && publicKey !== null) {
    problems.push('JWT_SECRET and JWT_PUBLIC_KEY are both set; set exactly one (JWT_SECRET for HS256, JWT_PUBLIC_KEY for RS256/ES256)')
    return { algorithm: 'HS256', key: secret, development: false }
  }
  if (publicKey !== null) {
    // Keys passed through environment files often carry literal "\n".
    const pem = publicKey.includes('\\n') ? publicKey.replace(/\\n/g, '\n') : publicKey
    try {
      const key = createPublicKey(pem)
      if (key.asymmetricKeyType === 'rsa') return { algorithm: 'RS256', key: pem, development: false }
      if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
        return { algorithm: 'ES256', key: pem, development: false }
      }
      problems.push(`JWT_PUBLIC_KEY is a ${key.asymmetricKeyType ?? 'unknown'} key; use an RSA key (RS256) or a P-256 EC key (ES256)`)
    } catch {
      problems.push('JWT_PUBLIC_KEY is not a PEM public key; paste the whole "-----BEGIN PUBLIC KEY-----" block')
    }
    return { algorithm: 'RS256', key: pem, development: false }
  }
  if (secret !== null) {
    // A short HS256 secret can be guessed offline from any one token.
    const bytes = Buffer.byteLength(secret)
    if (bytes < MIN_SECRET_BYTES && nodeEnv === 'production') {
      problems.push(`JWT_SECRET is shorter than ${MIN_SECRET_BYTES} bytes; use a long random secret, e.g. \`openssl rand -hex 32\``)
    } else if (bytes < MIN_SECRET_BYTES) {
      warnings.push(`JWT_SECRET is ${bytes} bytes; use at least ${MIN_SECRET_BYTES} (e.g. \`openssl rand -hex 32\`): a short secret can be guessed from any token, and NODE_ENV=production refuses it`)
    }
    return { algorithm: 'HS256', key: secret, development: false }
  }
  if (nodeEnv === 'production') {
    problems.push('JWT_SECRET or JWT_PUBLIC_KEY must be set when NODE_ENV=production')
  }
  return { algorithm: 'HS256', key: DEVELOPMENT_JWT_SECRET, development: true }
}
