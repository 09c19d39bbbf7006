/**
 * Turns JSON-schema validation errors (Ajv's and TypeBox's share a shape)
 * into one sentence that names the field and says what it must be.
 */

export interface SchemaError {
  instancePath: string
  message?: string
  keyword: string
  params: Record<string, unknown>
}

function fieldName (root: string, path: string): string {
  const field = path.replace(/^\//, '').replace(/\//g, '.')
  if (field === '') return root
  return root === 'message' ? `field "${field}"` : `${root}.${field}`
}

/** One sentence about one error; `root` names the whole value ("body", "message"). */
export function describeSchemaError (error: SchemaError, root: string): string {
  const { params } = error
  const at = fieldName(root, error.instancePath)
  switch (error.keyword) {
    case 'required': {
      const missing = (params.requiredProperties as string[] | undefined)?.[0] ?? params.missingProperty
      return `${fieldName(root, `${error.instancePath}/${String(missing)}`)} is required`
    }
    case 'additionalProperties': {
      const extra = (params.additionalProperties as string[] | undefined)?.[0] ?? params.additionalProperty
      return `${fieldName(root, `${error.instancePath}/${String(extra)}`)} is not allowed; remove it`
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[] | undefined) ?? []
      return `${at} must be one of ${allowed.map(v => JSON.stringify(v)).join(', ')}`
    }
    case 'format':
      return `${at} must be ${params.format === 'date-time' ? 'an ISO-8601 date-time such as 2026-01-31T12:00:00Z' : `in ${String(params.format)} format`}`
    default:
      return `${at} ${error.message ?? 'is invalid'}`
  }
}

/**
 * The most useful of several errors: a missing field first, then the first
 * real error. (TypeBox repeats an additionalProperties error as "schema is
 * false"; that one is skipped.)
 */
export function pickSchemaError<E extends SchemaError> (errors: Iterable<E>): E | undefined {
  let first: E | undefined
  for (const error of errors) {
    if (error.keyword === 'boolean') continue
    if (error.keyword === 'required') return error
    first ??= error
  }
  return first
}
