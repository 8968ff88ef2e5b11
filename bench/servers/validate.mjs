// The POST-a-JSON-body-and-validate-it scenario, shared by every server: the body, its
// JSON Schema (for Fastify) and the same rules as a zod schema (for the others).
export const VALIDATE_PATH = '/validate'

/** A 1 KiB JSON document, as a client would post it. */
export const VALIDATE_BODY = JSON.stringify({
  name: 'Kim Minji',
  email: 'minji@example.com',
  age: 31,
  active: true,
  tags: ['tea', 'hiking', 'typescript', 'seoul'],
  bio: 'x'.repeat(1024 - 150),
})

export const jsonSchema = {
  type: 'object',
  required: ['name', 'email', 'age', 'active', 'tags', 'bio'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    email: { type: 'string', minLength: 3, maxLength: 200, pattern: '^[^@\\s]+@[^@\\s]+$' },
    age: { type: 'integer', minimum: 0, maximum: 150 },
    active: { type: 'boolean' },
    tags: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 50 } },
    bio: { type: 'string', maxLength: 2000 },
  },
}

/** True when this server process runs the validate scenario (or no scenario was named). */
export const WANT_VALIDATE = (process.env.BENCH_SCENARIO || 'validate') === 'validate'

/** The zod schema, loaded only by servers that run the validate scenario (zod weighs on idle RSS). */
export async function loadZodSchema() {
  const { z } = await import('zod')
  return z.strictObject({
  name: z.string().min(1).max(100),
  email: z.string().min(3).max(200).regex(/^[^@\s]+@[^@\s]+$/),
  age: z.number().int().min(0).max(150),
  active: z.boolean(),
  tags: z.array(z.string().max(50)).max(20),
  bio: z.string().max(2000),
  })
}
