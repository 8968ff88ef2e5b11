/**
 * `carafe/admin`: CRUD resources generated from a table and a schema (`crud()`), and the
 * admin site.
 *
 * @example
 * import { crud } from 'carafe/admin'
 * crud(app, '/notes', { db, table: 'notes', schema: Note, can: (c, action) => c.user !== null })
 */
export { crud } from './crud.js'
export type { CrudOptions, CrudAction, CrudRow } from './crud.js'
export type { CrudPage, FieldView } from './crud-pages.js'
export { schemaFields } from './crud-table.js'
