import type { Context } from '../core/context.js'
import { HttpError } from '../core/errors.js'
import { coerce, displayValue, formValue, sameValue, type Field } from './fields.js'
import type { DynamicDb } from './introspect.js'
import { parseId } from './query.js'
import { conflictOf, type AdminRuntime } from './runtime.js'
import type { AdminTable } from './schema.js'
import type { Changes } from './history.js'

/** Most rows a foreign-key select lists; past it the field stays a plain input. */
const MAX_CHOICES = 200

type RowParams = { table: string; id: string }

/** The create form (GET) and its submission (POST). */
export async function addPage(rt: AdminRuntime, c: Context<{ table: string }>): Promise<Context<any>> {
  const t = await rt.table(c, c.params.table)
  if (c.req.method !== 'POST') return form(rt, c, t, null, {}, {})
  const { values, errors, raw } = await readForm(rt, c, t, true)
  if (Object.keys(errors).length > 0) return form(rt, c, t, null, raw, errors, 422, 'Please correct the errors below.')
  const db = rt.db(c)
  await rt.history.ensure(db)
  let id: unknown
  try {
    id = await db.transaction().execute(async (tx) => {
      const key = await insert(rt, tx, t, values)
      const changes: Changes = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, [null, v]]))
      await rt.history.record(tx, { user: rt.userId(c), table: t.name, row: String(key), action: 'create', changes })
      return key
    })
  } catch (e) {
    const conflict = conflictOf(e)
    if (conflict === undefined) throw e
    return form(rt, c, t, null, raw, {}, conflict.status, conflict.message)
  }
  c.flash(`Added ${t.label} ${String(id)}.`, 'success')
  return c.redirect(`${c.basePath}/${encodeURIComponent(t.name)}/${encodeURIComponent(String(id))}`, 303)
}

/** The edit form (GET), its submission (POST), and the row's history. */
export async function editPage(rt: AdminRuntime, c: Context<RowParams>): Promise<Context<any>> {
  const { t, id, row } = await findRow(rt, c)
  if (c.req.method !== 'POST') return form(rt, c, t, id, rowValues(t, row), {})
  const { values, errors, raw } = await readForm(rt, c, t, false)
  if (Object.keys(errors).length > 0) return form(rt, c, t, id, raw, errors, 422, 'Please correct the errors below.')
  const db = rt.db(c)
  await rt.history.ensure(db)
  let changed = 0
  try {
    changed = await db.transaction().execute(async (tx) => {
      const old = (await tx.selectFrom(t.name).selectAll().where(t.pk.name, '=', id).executeTakeFirst()) as Record<string, unknown> | undefined
      if (old === undefined) throw new HttpError(404, `nothing here: ${t.name} has no row ${String(id)}`, { code: 'ERR_NOT_FOUND' })
      const changes: Changes = {}
      for (const [k, v] of Object.entries(values)) if (!sameValue(old[k], v)) changes[k] = [old[k], v]
      if (Object.keys(changes).length === 0) return 0
      const set = Object.fromEntries(Object.keys(changes).map((k) => [k, values[k]]))
      await tx.updateTable(t.name).set(set).where(t.pk.name, '=', id).execute()
      await rt.history.record(tx, { user: rt.userId(c), table: t.name, row: String(id), action: 'update', changes })
      return Object.keys(changes).length
    })
  } catch (e) {
    const conflict = conflictOf(e)
    if (conflict === undefined) throw e
    return form(rt, c, t, id, raw, {}, conflict.status, conflict.message)
  }
  c.flash(changed === 0 ? `No changes to ${t.label} ${String(id)}.` : `Saved ${t.label} ${String(id)}.`, changed === 0 ? 'message' : 'success')
  const target = (values[t.pk.name] ?? id) as string | number
  return c.redirect(`${c.basePath}/${encodeURIComponent(t.name)}/${encodeURIComponent(String(target))}`, 303)
}

/** The delete confirmation (GET) and the delete itself (POST). */
export async function deletePage(rt: AdminRuntime, c: Context<RowParams>): Promise<Context<any>> {
  const { t, id, row } = await findRow(rt, c)
  const confirm = (status = 200, error?: string): Promise<Context<any>> => rt.page(c, 'delete.html', {
    table: { name: t.name, label: t.label }, id: String(id), error,
    values: t.info.columns.map((col) => ({ label: col.name, value: displayValue(row[col.name]) })),
  }, status)
  if (c.req.method !== 'POST') return confirm()
  const db = rt.db(c)
  await rt.history.ensure(db)
  try {
    await db.transaction().execute(async (tx) => {
      const r = await tx.deleteFrom(t.name).where(t.pk.name, '=', id).executeTakeFirst()
      if (Number(r.numDeletedRows) === 0) throw new HttpError(404, `nothing here: ${t.name} has no row ${String(id)}`, { code: 'ERR_NOT_FOUND' })
      await rt.history.record(tx, { user: rt.userId(c), table: t.name, row: String(id), action: 'delete', changes: Object.fromEntries(Object.entries(row).map(([k, v]) => [k, [v, null]])) })
    })
  } catch (e) {
    const conflict = conflictOf(e)
    if (conflict === undefined) throw e
    return confirm(conflict.status, conflict.message)
  }
  c.flash(`Deleted ${t.label} ${String(id)}.`, 'success')
  return c.redirect(`${c.basePath}/${encodeURIComponent(t.name)}`, 303)
}

async function findRow(rt: AdminRuntime, c: Context<RowParams>): Promise<{ t: AdminTable; id: string | number; row: Record<string, unknown> }> {
  const t = await rt.table(c, c.params.table)
  const id = parseId(t, c.params.id)
  const missing = (): HttpError => new HttpError(404, `nothing here: ${t.name} has no row ${JSON.stringify(c.params.id)}`, { code: 'ERR_NOT_FOUND' })
  if (id === undefined) throw missing()
  const row = (await rt.db(c).selectFrom(t.name).selectAll().where(t.pk.name, '=', id).executeTakeFirst()) as Record<string, unknown> | undefined
  if (row === undefined) throw missing()
  return { t, id, row }
}

/** The form's fields coerced by column type; the raw text kept to re-render it. */
async function readForm(rt: AdminRuntime, c: Context<any>, t: AdminTable, creating: boolean): Promise<{ values: Record<string, unknown>; errors: Record<string, string>; raw: Record<string, string> }> {
  const body = await c.req.form()
  const values: Record<string, unknown> = {}
  const errors: Record<string, string> = {}
  const raw: Record<string, string> = {}
  for (const f of t.fields) {
    const text = body.text(f.name)
    raw[f.name] = f.widget === 'checkbox' ? (text !== undefined && text !== '' && text !== '0' ? '1' : '') : text ?? ''
    const r = coerce(f, text, rt.dialect, creating)
    if ('error' in r) errors[f.name] = r.error
    else if ('value' in r) values[f.name] = r.value
  }
  return { values, errors, raw }
}

async function insert(rt: AdminRuntime, tx: DynamicDb, t: AdminTable, values: Record<string, unknown>): Promise<unknown> {
  if (rt.dialect === 'mysql') {
    const r = await tx.insertInto(t.name).values(values).executeTakeFirstOrThrow()
    return values[t.pk.name] ?? Number(r.insertId)
  }
  const row = (await tx.insertInto(t.name).values(values).returning(t.pk.name).executeTakeFirstOrThrow()) as Record<string, unknown>
  return row[t.pk.name]
}

function rowValues(t: AdminTable, row: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(t.fields.map((f) => [f.name, f.widget === 'checkbox' ? (row[f.name] === true || Number(row[f.name]) === 1 ? '1' : '') : formValue(f, row[f.name])]))
}

async function form(rt: AdminRuntime, c: Context<any>, t: AdminTable, id: string | number | null, values: Record<string, string>, errors: Record<string, string>, status = 200, error?: string): Promise<Context<any>> {
  const db = rt.db(c)
  const fields = await Promise.all(t.fields.map((f) => withChoices(rt, db, f)))
  const history = id === null ? [] : (await rt.history.ensure(db), await rt.history.recent(db, { table: t.name, row: String(id) }))
  return rt.page(c, 'form.html', {
    table: { name: t.name, label: t.label }, id: id === null ? null : String(id), error,
    fields: fields.map((f) => ({ name: f.name, label: f.label, widget: f.widget, required: f.required, choices: f.choices ?? [], nullable: f.column.nullable, value: values[f.name] ?? '', error: errors[f.name] })),
    history,
  }, status)
}

/** A foreign key's choices, when the referenced table is small enough to list. */
async function withChoices(rt: AdminRuntime, db: DynamicDb, f: Field): Promise<Field> {
  if (f.widget !== 'select' || f.column.references === undefined) return f
  const ref = f.column.references
  const info = rt.infos.get(ref.table)
  const labelCol = info?.columns.find((c) => c.name !== ref.column && /char|text|clob/.test(c.dataType))?.name
  const cols = labelCol === undefined ? [ref.column] : [ref.column, labelCol]
  const rows = (await db.selectFrom(ref.table).select(cols).orderBy(labelCol ?? ref.column).limit(MAX_CHOICES + 1).execute()) as Array<Record<string, unknown>>
  if (rows.length > MAX_CHOICES) return { ...f, widget: /int|serial/.test(f.column.dataType) ? 'number' : 'text' }
  return { ...f, choices: rows.map((r) => ({ value: String(r[ref.column]), label: labelCol === undefined ? String(r[ref.column]) : `${String(r[labelCol])} (${String(r[ref.column])})` })) }
}
