import type { StandardSchemaV1 } from '@standard-schema/spec'
import { HttpError } from '../core/errors.js'

/** One validation problem: where (`address.city`, or `''` for the whole value) and why. */
export interface ValidationIssue {
  path: string
  message: string
}

/** What is validated: the JSON body, the form, the query, the route params, the headers or the cookies. */
export type ValidationTarget = 'json' | 'form' | 'query' | 'params' | 'headers' | 'cookies'

/**
 * A 400 listing each invalid field and why; its JSON answer carries `issues` (shaped by the
 * app's `validationError` option when it has one). CRUD resources raise it with 422.
 */
export class ValidationError extends HttpError {
  readonly issues: ValidationIssue[]
  readonly target: ValidationTarget

  constructor(target: ValidationTarget, issues: ValidationIssue[], status = 400) {
    const list = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ')
    super(status, `invalid ${target}: ${list}`, { code: 'ERR_VALIDATION' })
    this.name = 'HttpError'
    this.issues = issues
    this.target = target
  }
}

/** The outcome of a validation that does not throw, for re-rendering a form with its errors. */
export type Validated<T> =
  | { success: true; data: T; errors: null }
  | { success: false; data: null; errors: Record<string, string[]>; issues: ValidationIssue[] }

/** What a schema run gives: the parsed value, or the issues. */
export type SchemaOutcome<T> = { value: T } | { issues: ValidationIssue[] }

/**
 * Run a Standard Schema (zod, valibot, arktype, …) on `value` and hand the outcome to
 * `then`. Synchronous schemas (most) finish without an extra promise turn.
 */
export function settleSchema<S extends StandardSchemaV1, R>(schema: S, value: unknown, then: (outcome: SchemaOutcome<StandardSchemaV1.InferOutput<S>>) => R): R | Promise<R> {
  const result = schema['~standard'].validate(value)
  return result instanceof Promise ? result.then((r) => then(outcome(r))) : then(outcome(result))
}

function outcome<T>(result: StandardSchemaV1.Result<unknown>): SchemaOutcome<T> {
  if (result.issues === undefined) return { value: result.value as T }
  return { issues: result.issues.map((i) => ({ path: pathOf(i.path), message: i.message })) }
}

/** Group issues by field for templates: `{ email: ['Invalid email'] }`. */
export function errorsByField(issues: ValidationIssue[]): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>
  for (const i of issues) (out[i.path] ??= []).push(i.message)
  return out
}

function pathOf(path: ReadonlyArray<PropertyKey | StandardSchemaV1.PathSegment> | undefined): string {
  if (path === undefined) return ''
  return path.map((p) => String(typeof p === 'object' ? p.key : p)).join('.')
}
