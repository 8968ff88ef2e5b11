import { CarafeError } from '../core/errors.js'
import { BUILTIN_CONVERTERS, parseConverterArgs, type Converter, type ConverterFactory } from './converters.js'

/** One `/`-separated piece of a compiled pattern. */
export type Segment =
  | { readonly kind: 'static'; readonly text: string }
  /** A whole segment that is one parameter (`:id`, `<id>`, `<int:id>`), or the rest of the path. */
  | { readonly kind: 'param'; readonly name: string; readonly conv: Converter; readonly key: string; readonly re: RegExp | null }
  /** Literal text and parameters in one segment (`<name>.txt`), matched by one regex. */
  | { readonly kind: 'mixed'; readonly names: string[]; readonly convs: Converter[]; readonly key: string; readonly re: RegExp }

/** A route pattern in Carafe's one internal form. */
export interface CompiledPattern {
  readonly source: string
  readonly segments: Segment[]
  /** Parameter names in order, and the converter of each. */
  readonly names: string[]
  readonly convs: Converter[]
  /** True when no segment has a parameter. */
  readonly isStatic: boolean
}

const PARAM = /<(?:([A-Za-z_][\w]*)(?:\(([^)]*)\))?:)?([A-Za-z_][\w]*)>|:([A-Za-z_][\w]*)(?:\{((?:[^{}]|\{[^{}]*\})+)\})?|(\*)$/g
const STRING_CONVERTER = BUILTIN_CONVERTERS.string!({ positional: [], named: {} })

/**
 * Compile a pattern in any of the three spellings (`/users/:id`, `/users/<id>`,
 * `/users/<int:id>`; also `:id{regex}` and a trailing `*`) into segments.
 *
 * @example
 * compilePattern('/files/<path:rest>', converters)
 */
export function compilePattern(source: string, converters: Readonly<Record<string, ConverterFactory>>): CompiledPattern {
  if (!source.startsWith('/')) {
    throw new CarafeError('ERR_ROUTE_PATTERN', `route pattern ${JSON.stringify(source)} must start with "/"`)
  }
  const raw = source.slice(1).split('/')
  // Request paths are canonical (router/canonical.ts: `//` merged), so an empty segment
  // inside a pattern could never match.
  if (raw.slice(0, -1).includes('')) {
    throw new CarafeError('ERR_ROUTE_PATTERN', `route pattern ${JSON.stringify(source)} has an empty segment ("//"), which no request path can have; remove the extra "/"`)
  }
  const segments: Segment[] = []
  const names: string[] = []
  const convs: Converter[] = []
  raw.forEach((text, i) => {
    const seg = compileSegment(text, source, converters)
    if (seg.kind !== 'static') {
      const segNames = seg.kind === 'param' ? [seg.name] : seg.names
      for (const n of segNames) {
        if (names.includes(n)) throw new CarafeError('ERR_ROUTE_PATTERN', `parameter "${n}" appears twice in ${source}`)
      }
      names.push(...segNames)
      convs.push(...(seg.kind === 'param' ? [seg.conv] : seg.convs))
      const slashes = seg.kind === 'param' ? seg.conv.slashes : seg.convs.some((c) => c.slashes)
      if (slashes && i !== raw.length - 1) {
        throw new CarafeError('ERR_ROUTE_PATTERN', `a parameter that spans "/" must be the last part of the pattern (${source})`)
      }
    }
    segments.push(seg)
  })
  return { source, segments, names, convs, isStatic: names.length === 0 }
}

function compileSegment(text: string, source: string, converters: Readonly<Record<string, ConverterFactory>>): Segment {
  PARAM.lastIndex = 0
  let m: RegExpExecArray | null
  let last = 0
  let regex = ''
  let key = ''
  const names: string[] = []
  const convs: Converter[] = []
  while ((m = PARAM.exec(text)) !== null) {
    const literal = text.slice(last, m.index)
    regex += escapeRegex(literal)
    key += literal
    last = m.index + m[0].length
    let conv: Converter
    let convKey: string
    let name: string
    if (m[6] === '*') {
      name = '*'; convKey = 'path'; conv = makeConverter('path', '', converters, source)
    } else if (m[3] !== undefined) {
      name = m[3]; convKey = `${m[1] ?? 'string'}(${m[2] ?? ''})`
      conv = m[1] === undefined && m[2] === undefined ? STRING_CONVERTER : makeConverter(m[1] ?? 'string', m[2] ?? '', converters, source)
    } else if (m[5] !== undefined) {
      name = m[4]!; convKey = `re{${m[5]}}`; conv = { regex: m[5], weight: 60 }
    } else {
      name = m[4]!; convKey = 'string()'; conv = STRING_CONVERTER
    }
    regex += `(${conv.regex})`
    key += `<${convKey}>`
    names.push(name)
    convs.push(conv)
  }
  if (names.length === 0) {
    if (/[<>]/.test(text)) throw new CarafeError('ERR_ROUTE_PATTERN', `cannot read the parameter in segment "${text}" of ${source}; write <name> or <converter:name>`)
    return { kind: 'static', text }
  }
  const rest = text.slice(last)
  regex += escapeRegex(rest)
  key += rest
  if (names.length === 1 && regex === `(${convs[0]!.regex})`) {
    const conv = convs[0]!
    const re = conv === STRING_CONVERTER ? null : new RegExp(`^(?:${conv.regex})$`, 's')
    return { kind: 'param', name: names[0]!, conv, key, re }
  }
  return { kind: 'mixed', names, convs, key, re: new RegExp(`^${regex}$`, 's') }
}

function makeConverter(name: string, args: string, converters: Readonly<Record<string, ConverterFactory>>, source: string): Converter {
  const factory = converters[name]
  if (factory === undefined) {
    throw new CarafeError('ERR_UNKNOWN_CONVERTER', `unknown converter "${name}" in ${source}; register it with new Carafe({ converters: { ${name}: ... } })`)
  }
  return factory(parseConverterArgs(args))
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
