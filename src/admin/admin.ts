import { Carafe } from '../core/app.js'
import type { Context } from '../core/context.js'
import type { Next } from '../core/compose.js'
import { CarafeError } from '../core/errors.js'
import { requireRole } from '../auth/guards.js'
import { mapDbError } from '../db/errors.js'
import { addPage, deletePage, editPage } from './edit.js'
import { bulkDelete, dashboard, listPage } from './list.js'
import type { AdminOptions } from './options.js'
import { AdminRuntime } from './runtime.js'

/**
 * The Django admin's role: a Carafe app to mount that manages the given tables. A dashboard
 * with row counts and the latest changes; per table a list page (search `?q=`, filters,
 * sorting on listed columns, pages), create and edit forms made from the column types,
 * delete with a confirmation, bulk delete; every change recorded (who, what, when, which
 * fields) in `carafe_admin_log`. Only users with `role`; every form CSRF-protected.
 *
 * The parent app must install `session()`, `csrf()` and `auth({ roles })` (they run first:
 * a mounted app sees the parent's middleware); without `csrf()` the first request is a 500
 * with `ERR_ADMIN_NO_CSRF`. Every table and column name comes from `tables`, checked
 * against the database on first use: the request only ever picks among them.
 *
 * @example
 * app.use(session()); app.use(csrf()); app.use(auth({ loadUser, roles: (u) => u.roles }))
 * app.mount('/admin', admin({ db, tables: { notes: { list: ['title', 'created_at'], search: ['title'], filters: ['author_id'] } } }))
 */
export function admin<DB>(options: AdminOptions<DB>): Carafe {
  if (typeof options !== 'object' || options === null || typeof options.db?.open !== 'function') throw new CarafeError('ERR_ADMIN_CONFIG', 'admin(): give { db, tables }, with db from database(url) in carafe/db')
  if (typeof options.tables !== 'object' || options.tables === null || Object.keys(options.tables).length === 0) throw new CarafeError('ERR_ADMIN_CONFIG', 'admin(): name at least one table: admin({ db, tables: { notes: {} } })')
  const rt = new AdminRuntime(options as AdminOptions<unknown>)
  // The mounted app answers with the parent's context (its root, secrets, templates folder): it needs none of its own.
  const app = new Carafe({ templates: false, secrets: [] })
  const roleGuard = requireRole(options.role ?? 'admin')
  // Security: every admin form changes data, so each must be checked against forgery; a
  // parent without csrf() would let any site post here with the admin's cookie. Refuse to
  // serve at all rather than serve unprotected forms.
  app.use(function adminGuard(c: Context, next: Next) {
    if (c.battery('csrf') === undefined) {
      throw new CarafeError('ERR_ADMIN_NO_CSRF', 'admin() needs CSRF protection on the app it is mounted in: app.use(csrf()) (from carafe/auth) after session() and before app.mount(…, admin(…))')
    }
    return roleGuard(c as Context<unknown>, next)
  })
  // The parent's db plugin maps errors for the parent's routes only: a mounted app answers its own.
  app.use({ name: 'admin-db-errors', mapError: mapDbError })
  app.get('/', (c) => dashboard(rt, c))
  app.get('/<table>', (c) => listPage(rt, c))
  app.post('/<table>', (c) => bulkDelete(rt, c))
  // Django's URLs end in a slash: send `/admin/notes/` to the list rather than a 404.
  app.get('/<table>/', async (c) => c.redirect(`${c.basePath}/${encodeURIComponent((await rt.table(c, c.params.table)).name)}`, 308))
  app.route('/<table>/add', { methods: ['GET', 'POST'] }, (c) => addPage(rt, c))
  app.route('/<table>/<id>', { methods: ['GET', 'POST'] }, (c) => editPage(rt, c))
  app.route('/<table>/<id>/delete', { methods: ['GET', 'POST'] }, (c) => deletePage(rt, c))
  return app
}
