/**
 * `carafe/admin`: CRUD resources generated from a table and a schema (`crud()`), and
 * generated admin pages over database tables (`admin()`).
 *
 * @example
 * import { crud, admin } from 'carafe/admin'
 * crud(app, '/notes', { db, table: 'notes', schema: Note, can: (c, action) => c.user !== null })
 * app.mount('/admin', admin({ db, tables: { notes: { list: ['title', 'created_at'], search: ['title'] } } }))
 */
export { crud } from './crud.js'
export type { CrudOptions, CrudAction, CrudRow } from './crud.js'
export type { CrudPage, FieldView } from './crud-pages.js'
export { schemaFields } from './crud-table.js'
export { admin } from './admin.js'
export type { AdminOptions, AdminTableOptions, AdminWidget, AdminDatabase } from './options.js'
