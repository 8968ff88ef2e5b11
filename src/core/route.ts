import type { Context } from './context.js'
import { CarafeError } from './errors.js'
import type { CompiledPattern } from '../router/pattern.js'
import type { Converter } from '../router/converters.js'

/** A route handler: gets the context, returns the response (see `applyResult` for the kinds). */
export type Handler<P = Record<string, unknown>> = (c: Context<P>) => unknown

/** Options for one route. */
export interface RouteOptions {
  /** Name for reverse routing with `app.url(name, params)`. @default the handler function's name, if it has one */
  name?: string
  /** Largest request body this route reads, in bytes. @default the app's `bodyLimit` */
  bodyLimit?: number
}

/** A registered route. */
export interface Route {
  readonly method: string
  readonly pattern: CompiledPattern
  readonly handler: Handler<any>
  /** Middleware of this route only (`app.get(pattern, ...middleware, handler)`), inside the app's. */
  readonly middleware: readonly import('./compose.js').Middleware[]
  readonly name: string | undefined
  readonly bodyLimit: number | undefined
  /** Set when the app freezes: the handler, or the middleware chain around it. */
  run: (c: Context<any>) => unknown
  /** True when `run` is the bare handler (its result still needs applying). */
  direct: boolean
}

/**
 * Turn matched parameter texts into the handler's params object, running each converter's
 * `parse`; `null` when a converter rejects the text (the route then does not match).
 */
export function buildParams(route: Route, values: readonly string[]): Record<string, unknown> | null {
  const { names, convs } = route.pattern
  const params: Record<string, unknown> = {}
  for (let i = 0; i < names.length; i++) {
    const parse = convs[i]!.parse
    if (parse === undefined) {
      params[names[i]!] = values[i]
      continue
    }
    let v: unknown
    try { v = parse(values[i]!) } catch { return null }
    if (v === undefined) return null
    params[names[i]!] = v
  }
  return params
}

/**
 * Build a URL path for `route` from `params`; names the pattern does not use go to the query
 * string. A value its converter would not match (`{ id: 'x' }` for `<int:id>`) is refused:
 * the URL would only ever answer 404.
 */
export function formatRoute(route: Route, params: Record<string, unknown>, query?: Record<string, string | number>): string {
  const used = new Set<string>()
  const parts = route.pattern.segments.map((seg) => {
    if (seg.kind === 'static') return encodeURI(seg.text)
    const names = seg.kind === 'param' ? [seg.name] : seg.names
    const convs = seg.kind === 'param' ? [seg.conv] : seg.convs
    let text = seg.kind === 'param' ? `\0` : seg.key
    let plain = text
    names.forEach((n, i) => {
      const v = params[n]
      if (v === undefined || v === null) throw new TypeError(`url(${JSON.stringify(route.name)}) needs a value for "${n}" (${route.pattern.source})`)
      used.add(n)
      const conv = convs[i]!
      const raw = conv.format ? conv.format(v) : String(v)
      if (!parses(conv, raw)) throw refuse(route, n, v)
      const enc = conv.slashes === true ? raw.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(raw)
      text = seg.kind === 'param' ? enc : text.replace(/<[^>]*>/, () => enc)
      plain = seg.kind === 'param' ? raw : plain.replace(/<[^>]*>/, () => raw)
    })
    // The router matches the decoded segment text: check it as the router will see it.
    if (seg.kind === 'param' ? (seg.re === null ? plain.length === 0 : !seg.re.test(plain)) : !seg.re.test(plain)) {
      throw refuse(route, names.join('", "'), names.length === 1 ? params[names[0]!] : plain)
    }
    return text
  })
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (!used.has(k) && v !== undefined && v !== null) search.append(k, String(v))
  for (const [k, v] of Object.entries(query ?? {})) search.append(k, String(v))
  const qs = search.toString()
  return '/' + parts.join('/') + (qs === '' ? '' : `?${qs}`)
}

/** True when the converter's `parse` takes `text` (the segment regex is checked by the caller, as the router checks it). */
function parses(conv: Converter, text: string): boolean {
  if (conv.parse === undefined) return true
  try { return conv.parse(text) !== undefined } catch { return false }
}

function refuse(route: Route, name: string, value: unknown): CarafeError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value)
  return new CarafeError('ERR_URL_PARAM', `url(${JSON.stringify(route.name)}): ${shown} is not a valid "${name}" for ${route.pattern.source}, so the URL would not match the route; pass a value its converter accepts`)
}
