import t from 'tap'
import { Type } from 'typebox'
import { Compile } from 'typebox/compile'
import { describeSchemaError, pickSchemaError, type SchemaError } from '../../src/protocol/schema-errors.js'

// Real errors from TypeBox, the validator the WebSocket messages use.
const Shape = Type.Object({
  name: Type.String(),
  at: Type.String({ format: 'date-time' }),
  nested: Type.Object({ n: Type.Integer({ minimum: 1 }) })
}, { additionalProperties: false })
const validator = Compile(Shape)

function typeboxErrors (value: unknown): SchemaError[] {
  return [...validator.Errors(value)] as SchemaError[]
}

// Ajv's shape (the HTTP routes' validator), as Ajv 8 reports these errors.
const ajvRequired: SchemaError = { instancePath: '/camera', keyword: 'required', params: { missingProperty: 'id' }, message: "must have required property 'id'" }
const ajvExtra: SchemaError = { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'extra' }, message: 'must NOT have additional properties' }

t.test('a missing field is named with its path, under the root', async t => {
  const [error] = typeboxErrors({ at: '2026-01-01T00:00:00Z', nested: { n: 1 } })
  t.equal(describeSchemaError(error, 'body'), 'body.name is required')
  t.equal(describeSchemaError(ajvRequired, 'body'), 'body.camera.id is required', 'Ajv names it in missingProperty')
})

t.test('an extra field is named and the sender is told to remove it', async t => {
  const error = typeboxErrors({ name: 'x', at: '2026-01-01T00:00:00Z', nested: { n: 1 }, extra: 1 }).find(e => e.keyword === 'additionalProperties')
  t.equal(describeSchemaError(error!, 'body'), 'body.extra is not allowed; remove it')
  t.equal(describeSchemaError(ajvExtra, 'querystring'), 'querystring.extra is not allowed; remove it')
})

t.test('an enum lists the allowed values as JSON', async t => {
  const error: SchemaError = { instancePath: '/level', keyword: 'enum', params: { allowedValues: ['info', 'warning'] } }
  t.equal(describeSchemaError(error, 'body'), 'body.level must be one of "info", "warning"')
})

t.test('a date-time format error shows an example; other formats are named', async t => {
  const [error] = typeboxErrors({ name: 'x', at: 'yesterday', nested: { n: 1 } })
  t.equal(describeSchemaError(error, 'body'), 'body.at must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z')
  t.equal(describeSchemaError({ instancePath: '/url', keyword: 'format', params: { format: 'uri' } }, 'body'), 'body.url must be in uri format')
})

t.test('any other error keeps the validator\'s message after the field', async t => {
  const [error] = typeboxErrors({ name: 'x', at: '2026-01-01T00:00:00Z', nested: { n: 0 } })
  t.equal(describeSchemaError(error, 'body'), 'body.nested.n must be >= 1')
  t.equal(describeSchemaError({ instancePath: '/x', keyword: 'custom', params: {} }, 'body'), 'body.x is invalid', 'without a message')
})

t.test('an error about the whole value names the root', async t => {
  t.equal(describeSchemaError({ instancePath: '', keyword: 'type', params: {}, message: 'must be object' }, 'body'), 'body must be object')
})

t.test('a WebSocket message names its fields as field "a.b"', async t => {
  t.equal(describeSchemaError({ instancePath: '/event_types/0', keyword: 'type', params: {}, message: 'must be string' }, 'message'), 'field "event_types.0" must be string')
  t.equal(describeSchemaError({ instancePath: '', keyword: 'required', params: { requiredProperties: ['type'] } }, 'message'), 'field "type" is required')
  t.equal(describeSchemaError({ instancePath: '', keyword: 'type', params: {}, message: 'must be object' }, 'message'), 'message must be object', 'the whole message stays "message"')
})

t.test('of several errors a missing field is picked first, even when it comes later', async t => {
  const errors: SchemaError[] = [
    { instancePath: '/a', keyword: 'type', params: {}, message: 'must be string' },
    { instancePath: '', keyword: 'required', params: { missingProperty: 'b' } }
  ]
  t.equal(pickSchemaError(errors), errors[1])
})

t.test('without a missing field the first real error is picked, skipping TypeBox\'s "schema is false"', async t => {
  const errors = typeboxErrors({ name: 'x', at: '2026-01-01T00:00:00Z', nested: { n: 1 }, extra: 1 })
  t.equal(errors[0].keyword, 'boolean', 'TypeBox reports the extra property as "schema is false" first')
  t.equal(pickSchemaError(errors)?.keyword, 'additionalProperties')
})

t.test('no errors, or only skipped ones, pick nothing', async t => {
  t.equal(pickSchemaError([]), undefined)
  t.equal(pickSchemaError([{ instancePath: '/x', keyword: 'boolean', params: {}, message: 'schema is false' }]), undefined)
})

t.test('errors are read lazily: picking stops at the first missing field', async t => {
  let read = 0
  function * errors (): Generator<SchemaError> {
    read++
    yield { instancePath: '', keyword: 'required', params: { missingProperty: 'a' } }
    read++
    yield { instancePath: '', keyword: 'type', params: {} }
  }
  pickSchemaError(errors())
  t.equal(read, 1)
})
