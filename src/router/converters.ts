import { CarafeError } from '../core/errors.js'

/**
 * A URL converter, as in Werkzeug: `regex` says which segment text it accepts (anchored,
 * without `/` unless `slashes` is set), `parse` turns the decoded text into the value the
 * handler gets, and `format` turns a value back into URL text for reverse routing.
 */
export interface Converter<T = unknown> {
  /** Source of a regular expression for the whole parameter (no anchors). */
  readonly regex: string
  /** The parameter may contain `/` (only allowed as the last part of a pattern). @default false */
  readonly slashes?: boolean
  /** Turn the decoded segment into the handler's value; throw or return `undefined` to reject. @default identity */
  parse?(text: string): T | undefined
  /** Turn a value back into (unencoded) URL text. @default String(value) */
  format?(value: T): string
  /** Matching order among parameters at the same place: lower is tried first. @default 100 */
  readonly weight?: number
}

/** Factory for converters that take arguments, e.g. `<string(length=2):code>`. */
export type ConverterFactory = (args: ConverterArgs) => Converter
/** Arguments written in a pattern: `<int(min=1, max=9):n>` gives `{ min: 1, max: 9 }`. */
export type ConverterArgs = { positional: Array<string | number | boolean>; named: Record<string, string | number | boolean> }

function parseIntText(text: string): number | undefined {
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : undefined
}

function bounded(n: number | undefined, args: ConverterArgs): number | undefined {
  if (n === undefined) return undefined
  const { min, max } = args.named
  if (typeof min === 'number' && n < min) return undefined
  if (typeof max === 'number' && n > max) return undefined
  return n
}

/** Werkzeug's built-in converters: default/string, int, float, path, uuid, any. */
export const BUILTIN_CONVERTERS: Readonly<Record<string, ConverterFactory>> = {
  string: (args) => {
    const { length, minlength, maxlength } = args.named
    if (typeof length === 'number') return { regex: `[^/]{${length}}`, weight: 90 }
    const lo = typeof minlength === 'number' ? minlength : 1
    const hi = typeof maxlength === 'number' ? String(maxlength) : ''
    return { regex: `[^/]{${lo},${hi}}`, weight: 100 }
  },
  int: (args) => ({
    regex: args.named.signed === true ? '-?\\d+' : '\\d+',
    weight: 50,
    parse: (t) => bounded(parseIntText(t), args),
    format: (v) => String(v),
  }),
  float: (args) => ({
    regex: args.named.signed === true ? '-?\\d+\\.\\d+' : '\\d+\\.\\d+',
    weight: 50,
    parse: (t) => bounded(Number(t), args),
    format: (v) => String(v),
  }),
  path: () => ({ regex: '[^/].*?', slashes: true, weight: 200 }),
  uuid: () => ({
    regex: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
    weight: 40,
  }),
  any: (args) => {
    const items = args.positional.map((s) => String(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    if (items.length === 0) throw new CarafeError('ERR_ROUTE_PATTERN', '<any(...)> needs at least one choice, e.g. <any(about, help):page>')
    return { regex: `(?:${items.join('|')})`, weight: 30 }
  },
}

/** Parse the inside of `(…)` in `<name(args):var>` the way Werkzeug does (Python-ish literals). */
export function parseConverterArgs(text: string): ConverterArgs {
  const args: ConverterArgs = { positional: [], named: {} }
  if (text.trim() === '') return args
  for (const raw of text.split(',')) {
    const part = raw.trim()
    const eq = part.indexOf('=')
    const value = literal(eq < 0 ? part : part.slice(eq + 1).trim())
    if (eq < 0) args.positional.push(value)
    else args.named[part.slice(0, eq).trim()] = value
  }
  return args
}

function literal(s: string): string | number | boolean {
  if (s === 'True' || s === 'true') return true
  if (s === 'False' || s === 'false') return false
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s)
  const q = /^(['"])(.*)\1$/.exec(s)
  return q ? q[2] : s
}
