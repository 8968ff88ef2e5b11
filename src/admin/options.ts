import type { Kysely } from 'kysely'
import type { CurrentUser } from '../core/battery.js'
import type { DatabaseDialect } from '../db/database.js'

/** How a form shows a column. */
export type AdminWidget = 'text' | 'textarea' | 'number' | 'decimal' | 'checkbox' | 'date' | 'datetime' | 'select'

/** What the admin shows of one table (Django's `ModelAdmin`). Every name is checked against the table at the first request. */
export interface AdminTableOptions<C extends string = string> {
  /** A heading for the table. @default the table name */
  label?: string
  /** Columns of the list page (Django's `list_display`); the list sorts on these only. @default the first five columns */
  list?: readonly C[]
  /** Text columns `?q=` searches (case-insensitive substring, `lower(col) like …`). @default none */
  search?: readonly C[]
  /** Columns the list filters on by equality (`?author_id=3`), with a choice of their values. @default none */
  filters?: readonly C[]
  /** Columns the create and edit forms show. @default every column but a generated primary key */
  fields?: readonly C[]
  /** A widget other than the one the column type gives (`{ body: 'textarea' }`). @default from the type */
  widgets?: Readonly<Partial<Record<C, AdminWidget>>>
  /** Rows per list page (at most 100). @default 25 */
  perPage?: number
}

/**
 * The tables of `admin()`, by name, with their columns checked by TypeScript when the
 * database is typed (`database<DB>(url)`); any names when it is not.
 */
export type AdminTables<DB> = unknown extends DB
  ? Readonly<Record<string, AdminTableOptions | true>>
  : { readonly [T in keyof DB & string]?: AdminTableOptions<keyof DB[T] & string> | true }

/** Options for {@link admin}. */
export interface AdminOptions<DB = unknown> {
  /** The database the tables live in: what `database(url)` from `carafe/db` returns. */
  db: AdminDatabase<DB>
  /** The tables to manage, by name; `true` for the defaults. */
  tables: AdminTables<DB>
  /** The role a user needs (`auth({ roles })`). @default 'admin' */
  role?: string
  /** The title in the header and the browser tab. @default 'Administration' */
  title?: string
  /** The change history table, created on first use. @default 'carafe_admin_log' */
  historyTable?: string
  /** The id recorded for the user making a change. @default (user) => user.id */
  userId?: (user: CurrentUser) => string | number
  /** The folder of the app's templates, where `admin/<name>.html` overrides a built-in one (relative to the app root). @default 'templates' */
  templates?: string
}

/** What the admin needs of a `Database<DB>`. */
export interface AdminDatabase<DB = unknown> {
  readonly dialect: DatabaseDialect
  open(root?: string): Kysely<DB>
}
