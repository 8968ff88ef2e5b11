import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { Kysely, Selectable } from 'kysely'
import type { Carafe } from '../core/app.js'
import type { Context } from '../core/context.js'
import { CarafeError, HttpError } from '../core/errors.js'
import type { Database } from '../db/database.js'
import { dbErrorKind, mapDbError } from '../db/errors.js'
import { settleSchema, ValidationError, type ValidationIssue } from '../forms/validate.js'
import { conflictMessage, flash, insertRow, isJsonBody, pick, readInput, wantsJson, writable } from './crud-io.js'
import { requireLogin } from '../auth/guards.js'
import { parseListQuery, runList } from './crud-query.js'
import { defaultTemplatesDir, fromDb, parseId, present, resolveTable, type ResolvedTable } from './crud-table.js'
import { renderPage, type CrudPage } from './crud-pages.js'

/** What a user may be asked permission for. */
export type CrudAction = 'list' | 'read' | 'create' | 'update' | 'delete'

/** A row of table `T` as Kysely selects it. */
export type CrudRow<DB, T extends keyof DB & string> = Selectable<DB[T]>

/** Options for {@link crud}. */
export interface CrudOptions<DB, T extends keyof DB & string, S extends StandardSchemaV1> {
  /** The database (`database(url)` from `carafe/db`). */
  db: Database<DB>
  /** The table; its columns, types and primary key are read from the live database on first use. */
  table: T
  /** A Standard Schema (zod, valibot …) for what create and update accept; its fields are the form's. */
  schema: S
  /**
   * May the request do `action`? `row` is the stored row for `read`, `update` and `delete`,
   * the validated values for `create` (after a first call without them), and absent for
   * `list` and the new-row form. `false` is a 403, or a 401 (a login redirect for browsers)
   * when `auth()` is installed and nobody is logged in.
   */
  can: (c: Context<any>, action: CrudAction, row?: CrudRow<DB, T> | StandardSchemaV1.InferOutput<S>) => boolean | Promise<boolean>
  /** Columns `?sort=col` / `?sort=-col` may name. @default the primary key and the schema's fields */
  sortable?: readonly string[]
  /** Columns `?col=value` may filter on (equality; repeated for any of several values). @default [] */
  filters?: readonly string[]
  /** Text columns `?q=` searches (case-insensitive substring, wildcards escaped). @default [] (no search) */
  search?: readonly string[]
  /**
   * Columns shown in JSON answers and on the pages (the primary key always is). `can()`
   * still gets whole rows. @default the primary key, the schema's fields, and the columns the
   * database fills in (defaults, timestamps): never a column nobody listed, such as a password hash
   */
  columns?: readonly string[]
  /** Rows per page. @default 20 */
  pageSize?: number
  /** The most rows `?limit=` gives. @default 100 */
  maxPageSize?: number
  /** Other template names for this resource's pages. @default { list: 'crud/list.html', detail: 'crud/detail.html', form: 'crud/form.html', delete: 'crud/delete.html' } */
  templates?: Partial<Record<CrudPage, string>>
  /** The resource's name on its pages. @default the table's name */
  title?: string
}

/**
 * A resource from a table and a schema: JSON routes and server-rendered pages under
 * `prefix`, chosen by content negotiation (`Accept: application/json` gets JSON).
 *
 * | route | JSON | HTML |
 * |---|---|---|
 * | `GET prefix` | `{ items, page, limit, total, pages }` (`?page` `?limit` `?sort` `?q` filters) | list with search and pages |
 * | `POST prefix` | 201 + `Location` | the form again (422) or a redirect |
 * | `GET prefix/new` | | the empty form |
 * | `GET prefix/<id>` | the row | detail page |
 * | `GET prefix/<id>/edit` | | the filled form |
 * | `PUT` / `PATCH` / `POST prefix/<id>` | the updated row | the form again or a redirect |
 * | `GET prefix/<id>/delete` | | confirmation page |
 * | `DELETE prefix/<id>`, `POST prefix/<id>/delete` | 204 | redirect to the list |
 *
 * Needs `csrf()` (from `carafe/auth`) in front of its routes: without it each request is an
 * `ERR_CRUD_NO_CSRF` error. Invalid input is a 422 with the `issues` list (shaped by the
 * app's `validationError` option); a unique or foreign-key violation is a 409.
 *
 * @example
 * crud(app, '/notes', { db, table: 'notes', schema: Note, search: ['title'], can: (c, action, row) => action === 'list' || c.user !== null })
 */
export function crud<DB, T extends keyof DB & string, S extends StandardSchemaV1>(app: Carafe, prefix: string, options: CrudOptions<DB, T, S>): Carafe {
  if (typeof options.can !== 'function') throw new CarafeError('ERR_CRUD_CONFIG', `crud(${JSON.stringify(prefix)}): give can(c, action, row) => boolean; return true to allow everyone`)
  if (typeof options.schema?.['~standard']?.validate !== 'function') throw new CarafeError('ERR_CRUD_CONFIG', `crud(${JSON.stringify(prefix)}): schema must be a Standard Schema (zod, valibot, arktype …)`)
  const p = prefix.replace(/\/+$/, '')
  if (!p.startsWith('/') || /[<>:*]/.test(p)) throw new CarafeError('ERR_CRUD_CONFIG', `crud(${JSON.stringify(prefix)}): the prefix must be a plain path such as /notes`)
  app.addTemplateFallback(defaultTemplatesDir())
  // Refused at startup when no csrf() runs in front of this app (here or in one it is mounted
  // in); each request checks again, for apps served without startup (app.fetch in tests).
  app.onStartup(() => {
    if (app.plugin('csrf') === undefined) throw noCsrf(p)
  })
  const r = new Resource(app, p, options as unknown as CrudOptions<any, string, StandardSchemaV1>)
  app.get(p, (c) => r.run(c, () => r.list(c)))
  app.post(p, (c) => r.run(c, () => r.create(c)))
  app.get(`${p}/new`, (c) => r.run(c, () => r.newForm(c)))
  app.get(`${p}/<id>`, (c) => r.run(c, () => r.read(c, c.params.id)))
  app.get(`${p}/<id>/edit`, (c) => r.run(c, () => r.editForm(c, c.params.id)))
  for (const method of ['post', 'put', 'patch'] as const) app[method](`${p}/<id>`, (c) => r.run(c, () => r.update(c, c.params.id)))
  app.get(`${p}/<id>/delete`, (c) => r.run(c, () => r.confirmDelete(c, c.params.id)))
  app.post(`${p}/<id>/delete`, (c) => r.run(c, () => r.remove(c, c.params.id)))
  app.delete(`${p}/<id>`, (c) => r.run(c, () => r.remove(c, c.params.id)))
  return app
}

function noCsrf(prefix: string): CarafeError {
  return new CarafeError('ERR_CRUD_NO_CSRF', `crud(${JSON.stringify(prefix)}) serves forms that change data and needs CSRF protection: add app.use(session()) and app.use(csrf()) (from 'carafe/session' and 'carafe/auth') before its routes`)
}

type AnyOptions = CrudOptions<any, string, StandardSchemaV1>
type Row = Record<string, unknown>

/** One resource's state and request handlers. */
class Resource {
  readonly #prefix: string
  readonly #o: AnyOptions & { app: Carafe }
  #table: Promise<ResolvedTable> | null = null

  constructor(app: Carafe, prefix: string, options: AnyOptions) {
    this.#prefix = prefix
    this.#o = { ...options, app }
  }

  /** Every route: CSRF must guard it, the table must be known, and database errors become HTTP answers. */
  async run(c: Context<any>, fn: () => Promise<unknown>): Promise<unknown> {
    // Forms that change data are only safe behind csrf(); refuse to serve them at all without it.
    if (c.battery('csrf') === undefined) throw noCsrf(this.#prefix)
    try {
      return await fn()
    } catch (e) {
      throw mapDbError(e) ?? e
    }
  }

  #resolve(): Promise<ResolvedTable> {
    this.#table ??= resolveTable({
      db: this.#o.db, table: this.#o.table, schema: this.#o.schema, sortable: this.#o.sortable, filters: this.#o.filters, search: this.#o.search, columns: this.#o.columns,
      pageSize: this.#o.pageSize ?? 20, maxPageSize: this.#o.maxPageSize ?? 100,
    }).catch((e: unknown) => {
      this.#table = null
      throw e
    })
    return this.#table
  }

  #k(c: Context<any>): Kysely<any> {
    return this.#o.db.open(c.root) as Kysely<any>
  }

  #base(c: Context<any>): string {
    return c.basePath + this.#prefix
  }

  async #allow(c: Context<any>, action: CrudAction, row?: Row): Promise<unknown> {
    if ((await this.#o.can(c, action, row as never)) === true) return undefined
    const auth = c.battery('auth')
    if (auth !== undefined && auth.user === null) {
      // requireLogin()'s answer: browsers go to the login page, API clients get a 401.
      return requireLogin()(c as Context<unknown>, async () => undefined)
    }
    throw new HttpError(403, `you may not ${action} ${this.#o.title ?? this.#o.table}${row === undefined ? '' : ' here'}`, { code: 'ERR_FORBIDDEN' })
  }

  async #load(c: Context<any>, t: ResolvedTable, idText: string): Promise<Row> {
    const id = parseId(t.pk, idText)
    const row = id === undefined ? undefined : await this.#k(c).selectFrom(t.info.name).selectAll().where(t.pk.name, '=', id).executeTakeFirst()
    if (row === undefined) throw new HttpError(404, `nothing here: no ${this.#o.title ?? this.#o.table} with ${t.pk.name} ${JSON.stringify(idText)}`, { code: 'ERR_NOT_FOUND' })
    return fromDb(t, row as Row)
  }

  async list(c: Context<any>): Promise<unknown> {
    const t = await this.#resolve()
    const denied = await this.#allow(c, 'list')
    if (denied !== undefined) return denied
    const query: Record<string, string[]> = Object.create(null) as Record<string, string[]>
    for (const [k, v] of new URLSearchParams(c.req.rawQuery)) (query[k] ??= []).push(v)
    const plan = parseListQuery(query, t.rules)
    const { rows, total } = await runList(this.#k(c), plan, t.rules, (v) => (t.info.dialect === 'postgres' ? v : v ? 1 : 0))
    const items = rows.map((row) => fromDb(t, row))
    const pages = Math.max(1, Math.ceil(total / plan.limit))
    if (wantsJson(c)) return c.json({ items: items.map((row) => present(t, row)), page: plan.page, limit: plan.limit, total, pages })
    return renderPage(c, this.#o, 'list', { t, base: this.#base(c), items, plan, total, pages, query })
  }

  async read(c: Context<any>, id: string): Promise<unknown> {
    const t = await this.#resolve()
    const row = await this.#load(c, t, id)
    const denied = await this.#allow(c, 'read', row)
    if (denied !== undefined) return denied
    if (wantsJson(c)) return c.json(present(t, row))
    return renderPage(c, this.#o, 'detail', { t, base: this.#base(c), row })
  }

  async newForm(c: Context<any>): Promise<unknown> {
    const t = await this.#resolve()
    const denied = await this.#allow(c, 'create')
    if (denied !== undefined) return denied
    return renderPage(c, this.#o, 'form', { t, base: this.#base(c), values: {}, errors: {} })
  }

  async editForm(c: Context<any>, id: string): Promise<unknown> {
    const t = await this.#resolve()
    const row = await this.#load(c, t, id)
    const denied = await this.#allow(c, 'update', row)
    if (denied !== undefined) return denied
    return renderPage(c, this.#o, 'form', { t, base: this.#base(c), row, values: row, errors: {} })
  }

  async confirmDelete(c: Context<any>, id: string): Promise<unknown> {
    const t = await this.#resolve()
    const row = await this.#load(c, t, id)
    const denied = await this.#allow(c, 'delete', row)
    if (denied !== undefined) return denied
    return renderPage(c, this.#o, 'delete', { t, base: this.#base(c), row })
  }

  async create(c: Context<any>): Promise<unknown> {
    const t = await this.#resolve()
    const denied = await this.#allow(c, 'create')
    if (denied !== undefined) return denied
    const input = await readInput(c, t)
    const checked = await this.#validate(c, t, input, undefined)
    if ('answer' in checked) return checked.answer
    const again = await this.#allow(c, 'create', checked.value)
    if (again !== undefined) return again
    const values = writable(t, checked.value)
    let row: Row
    try {
      row = fromDb(t, await insertRow(this.#k(c), t, values))
    } catch (e) {
      return this.#conflict(c, t, e, input, undefined)
    }
    const url = `${this.#base(c)}/${encodeURIComponent(String(row[t.pk.name]))}`
    if (wantsJson(c)) {
      c.header('location', url)
      return c.json(present(t, row), 201)
    }
    flash(c, `${this.#o.title ?? this.#o.table} created.`)
    return c.redirect(url, 303)
  }

  async update(c: Context<any>, id: string): Promise<unknown> {
    const t = await this.#resolve()
    const row = await this.#load(c, t, id)
    const denied = await this.#allow(c, 'update', row)
    if (denied !== undefined) return denied
    let input = await readInput(c, t)
    // PATCH sends only what changes: the stored values fill in the rest before validation.
    if (c.req.method === 'PATCH') input = { ...pick(row, t), ...input }
    const checked = await this.#validate(c, t, input, row)
    if ('answer' in checked) return checked.answer
    const values = writable(t, checked.value)
    let updated: Row
    try {
      if (Object.keys(values).length > 0) await this.#k(c).updateTable(t.info.name).set(values).where(t.pk.name, '=', row[t.pk.name]).execute()
      const key = values[t.pk.name] ?? row[t.pk.name]
      updated = fromDb(t, (await this.#k(c).selectFrom(t.info.name).selectAll().where(t.pk.name, '=', key).executeTakeFirstOrThrow()) as Row)
    } catch (e) {
      return this.#conflict(c, t, e, input, row)
    }
    if (wantsJson(c)) return c.json(present(t, updated))
    flash(c, `${this.#o.title ?? this.#o.table} saved.`)
    return c.redirect(`${this.#base(c)}/${encodeURIComponent(String(updated[t.pk.name]))}`, 303)
  }

  async remove(c: Context<any>, id: string): Promise<unknown> {
    const t = await this.#resolve()
    const row = await this.#load(c, t, id)
    const denied = await this.#allow(c, 'delete', row)
    if (denied !== undefined) return denied
    try {
      await this.#k(c).deleteFrom(t.info.name).where(t.pk.name, '=', row[t.pk.name]).execute()
    } catch (e) {
      const kind = dbErrorKind(e)
      if (kind === 'foreign-key' && !wantsJson(c)) {
        return renderPage(c, this.#o, 'delete', { t, base: this.#base(c), row, error: conflictMessage(kind) }, 409)
      }
      throw e
    }
    if (wantsJson(c)) return c.body(null, 204)
    flash(c, `${this.#o.title ?? this.#o.table} deleted.`)
    return c.redirect(this.#base(c), 303)
  }

  /** Run the schema: the value, or the answer for invalid input (a 422: JSON issues, or the form with its errors). */
  async #validate(c: Context<any>, t: ResolvedTable, input: Row, row: Row | undefined): Promise<{ value: Row } | { answer: unknown }> {
    const outcome = await settleSchema(this.#o.schema, input, (o) => o)
    if ('value' in outcome) {
      const v = outcome.value
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CarafeError('ERR_CRUD_CONFIG', `crud(${JSON.stringify(this.#prefix)}): the schema must give an object`)
      return { value: v as Row }
    }
    return { answer: await this.#invalid(c, t, outcome.issues, input, row) }
  }

  #invalid(c: Context<any>, t: ResolvedTable, issues: ValidationIssue[], input: Row, row: Row | undefined): unknown {
    if (wantsJson(c)) throw new ValidationError(isJsonBody(c) ? 'json' : 'form', issues, 422)
    const errors: Record<string, string[]> = {}
    for (const i of issues) (errors[i.path] ??= []).push(i.message)
    return renderPage(c, this.#o, 'form', { t, base: this.#base(c), row, values: input, errors, issues }, 422)
  }

  /** A write that broke a unique, foreign-key, not-null or check rule: a 409 (JSON), or the form again with the reason. */
  #conflict(c: Context<any>, t: ResolvedTable, e: unknown, input: Row, row: Row | undefined): unknown {
    const kind = dbErrorKind(e)
    if (wantsJson(c) || (kind !== 'unique' && kind !== 'foreign-key' && kind !== 'not-null' && kind !== 'check')) throw e
    return renderPage(c, this.#o, 'form', { t, base: this.#base(c), row, values: input, errors: {}, error: conflictMessage(kind) }, 409)
  }
}
