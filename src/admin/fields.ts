import type { DatabaseDialect } from '../db/database.js'
import type { ColumnInfo } from './introspect.js'
import type { AdminWidget } from './options.js'

/** A form field of the admin, made from a column. */
export interface Field {
  readonly name: string
  readonly label: string
  readonly widget: AdminWidget
  /** The form must give a value (not null, no default). */
  readonly required: boolean
  readonly column: ColumnInfo
  /** For `select`: the rows of the referenced table, filled in per request. */
  choices?: ReadonlyArray<{ value: string; label: string }>
}

/** SQLite types everything TEXT; these names get a textarea there (elsewhere `text` itself does). */
const LONG_TEXT_NAME = /(^|_)(body|content|description|text|comment|comments|notes?|bio|summary|message|details)$/i

/** The widget a column's type calls for. */
export function widgetFor(c: ColumnInfo, dialect: DatabaseDialect): AdminWidget {
  const t = c.dataType
  if (c.references !== undefined) return 'select'
  if (/^(bool|boolean)$/.test(t) || t === 'tinyint(1)') return 'checkbox'
  if (/int|serial/.test(t)) return 'number'
  if (/real|float|double|numeric|decimal|money/.test(t)) return 'decimal'
  if (/^date$/.test(t)) return 'date'
  if (/timestamp|datetime/.test(t)) return 'datetime'
  if (/^(text|mediumtext|longtext|clob)$/.test(t)) return dialect === 'sqlite' && !LONG_TEXT_NAME.test(c.name) ? 'text' : 'textarea'
  return 'text'
}

/** `created_at` → `Created at`. */
export function labelOf(name: string): string {
  const s = name.replace(/_/g, ' ').trim()
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** A stored value as a form shows it (datetimes to the second: a form sent back unchanged changes nothing). */
export function formValue(field: Field, v: unknown): string {
  if (v === null || v === undefined) return ''
  if (v instanceof Date) return field.widget === 'date' ? localDate(v) : stamp(v).replace(' ', 'T')
  if (field.widget === 'datetime' && typeof v === 'string') return v.replace(' ', 'T').slice(0, 19)
  return String(v)
}

/** A value as text to compare a stored value with a submitted one: `1` and `true`, a Date and its `YYYY-MM-DD HH:MM:SS`. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || a === undefined || b === undefined) return false
  if (typeof a === 'boolean' || typeof b === 'boolean') return truthy(a) === truthy(b)
  const x = a instanceof Date ? stamp(a) : String(a).replace('T', ' ')
  const y = b instanceof Date ? stamp(b) : String(b).replace('T', ' ')
  // A date column read back as a Date (PostgreSQL) against the form's YYYY-MM-DD.
  if (a instanceof Date && y.length === 10) return x.slice(0, 10) === y
  return x === y
}

function truthy(v: unknown): boolean {
  return v === true || v === 't' || v === 'true' || Number(v) === 1
}

function stamp(d: Date): string {
  return `${localDate(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** A stored value as the list and history show it. */
export function displayValue(v: unknown): string {
  if (v === null || v === undefined) return '—'
  if (v instanceof Date) return `${localDate(v)} ${pad(v.getHours())}:${pad(v.getMinutes())}`
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v)
  return s.length > 80 ? `${s.slice(0, 79)}…` : s
}

/** What the form's text for a field becomes: the value to store, nothing (keep the default), or what is wrong with it. */
export type Coerced = { value: unknown } | { omit: true } | { error: string }

/** Turn a form's text into the value a column takes, by the field's widget. */
export function coerce(field: Field, raw: string | undefined, dialect: DatabaseDialect, creating: boolean): Coerced {
  if (field.widget === 'checkbox') {
    const on = raw !== undefined && raw !== '' && raw !== '0' && raw !== 'false'
    return { value: dialect === 'postgres' ? on : on ? 1 : 0 }
  }
  const text = raw ?? ''
  if (text.trim() === '') {
    if (field.column.nullable) return { value: null }
    if (creating && field.column.hasDefault) return { omit: true }
    return { error: 'This field is required.' }
  }
  switch (field.widget) {
    case 'number':
    case 'select': {
      if (field.widget === 'select' && !/int|serial/.test(field.column.dataType)) return { value: text }
      if (!/^-?\d{1,15}$/.test(text.trim())) return { error: field.widget === 'select' ? 'Choose one of the options.' : 'Enter a whole number.' }
      return { value: Number(text.trim()) }
    }
    case 'decimal': {
      const n = Number(text.trim())
      if (!/^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(text.trim()) || !Number.isFinite(n)) return { error: 'Enter a number.' }
      return { value: n }
    }
    case 'date':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text.trim()) || Number.isNaN(Date.parse(text.trim()))) return { error: 'Enter a date (YYYY-MM-DD).' }
      return { value: text.trim() }
    case 'datetime': {
      const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?$/.exec(text.trim())
      if (m === null || Number.isNaN(Date.parse(`${m[1]}T${m[2]}`))) return { error: 'Enter a date and time (YYYY-MM-DD HH:MM).' }
      return { value: `${m[1]} ${m[2]}${m[3] ?? ':00'}` }
    }
    default:
      return { value: text }
  }
}

function localDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}
