import type { Kysely } from 'kysely'
import type { Context } from '../core/context.js'
import { HttpError } from '../core/errors.js'
import { mapDbError } from '../db/errors.js'
import { coerceFormValue, toDbValue } from '../db/introspect.js'
import type { ResolvedTable } from './crud-table.js'

type Row = Record<string, unknown>

const NON_FORM_METHODS = new Set(['PUT', 'PATCH', 'DELETE'])

/** The message of a conflict for a form (the same words as the 409's). */
export function conflictMessage(kind: string): string {
  return mapDbError(Object.assign(new Error(kind), { code: { unique: '23505', 'foreign-key': '23503', 'not-null': '23502', check: '23514' }[kind] }))?.message ?? 'that conflicts with what is stored'
}

/**
 * JSON for clients that ask for it; with no preference (an Accept of any type, or none), for those
 * that send JSON or use a method HTML forms cannot send (PUT, PATCH, DELETE).
 */
export function wantsJson(c: Context<any>): boolean {
  const accept = c.req.header('accept')
  if (accept === undefined || accept === '' || /^\s*\*\/\*\s*$/.test(accept)) return isJsonBody(c) || NON_FORM_METHODS.has(c.req.method)
  return c.accepts('html', 'json') === 'json'
}

export function isJsonBody(c: Context<any>): boolean {
  const type = c.req.contentType
  return type === 'application/json' || type.endsWith('+json')
}

/** The request's input: a JSON object as sent, or the form's fields coerced by column type. */
export async function readInput(c: Context<any>, t: ResolvedTable): Promise<Row> {
  if (isJsonBody(c)) {
    const body = await c.req.json()
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the JSON body must be an object of field values', { code: 'ERR_BAD_BODY' })
    return body as Row
  }
  const form = await c.req.form()
  const out: Row = {}
  for (const f of t.fields) {
    const v = coerceFormValue(f, form.text(f.name))
    if (v !== undefined) out[f.name] = v
  }
  return out
}

/** The schema's output, limited to the table's columns (a name reaches SQL only when the table has it), in driver shape. */
export function writable(t: ResolvedTable, value: Row): Row {
  const out: Row = {}
  for (const [k, v] of Object.entries(value)) {
    const col = t.info.column(k)
    if (col !== undefined && v !== undefined) out[k] = toDbValue(t.info.dialect, col, v)
  }
  return out
}

export function pick(row: Row, t: ResolvedTable): Row {
  const out: Row = {}
  for (const f of t.fields) if (row[f.name] !== undefined) out[f.name] = row[f.name]
  return out
}

/** Insert and read the row back (MariaDB has no `RETURNING`: by its insert id, or the key given). */
export async function insertRow(k: Kysely<any>, t: ResolvedTable, values: Row): Promise<Row> {
  if (t.info.dialect !== 'mysql') return (await k.insertInto(t.info.name).values(values).returningAll().executeTakeFirstOrThrow()) as Row
  const r = await k.insertInto(t.info.name).values(values).executeTakeFirstOrThrow()
  const key = values[t.pk.name] ?? (r.insertId === undefined ? undefined : Number(r.insertId))
  return (await k.selectFrom(t.info.name).selectAll().where(t.pk.name, '=', key).executeTakeFirstOrThrow()) as Row
}

export function flash(c: Context<any>, message: string): void {
  if (c.battery('session') !== undefined) c.flash(message, 'success')
}
