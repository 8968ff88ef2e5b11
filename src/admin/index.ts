/**
 * `carafe/admin`: generated pages over database tables.
 *
 * @example
 * import { admin } from 'carafe/admin'
 * app.mount('/admin', admin({ db, tables: { notes: { list: ['title', 'created_at'], search: ['title'] } } }))
 */
export { admin } from './admin.js'
export type { AdminOptions, AdminTableOptions, AdminWidget, AdminDatabase } from './options.js'
