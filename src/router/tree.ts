import { CarafeError } from '../core/errors.js'
import type { CompiledPattern, Segment } from './pattern.js'

/** Everything registered for one path shape: a handler per method, and the `Allow` value. */
export interface Endpoint<R> {
  readonly byMethod: Record<string, R | undefined>
  anyMethod: R | undefined
  allow: string
}

/** What {@link RouteTree.match} found: the endpoint and the raw (decoded) parameter texts in order. */
export interface TreeMatch<R> {
  readonly endpoint: Endpoint<R>
  readonly values: string[]
}

interface ParamEdge<R> {
  readonly seg: Extract<Segment, { kind: 'param' | 'mixed' }>
  readonly weight: number
  readonly tail: boolean
  readonly node: Node<R>
}

class Node<R> {
  statics: Map<string, Node<R>> | null = null
  params: ParamEdge<R>[] = []
  endpoint: Endpoint<R> | null = null
}

const NO_VALUES: string[] = []

/**
 * The route table: a segment tree where static segments are tried before
 * parameters whatever the order of declaration (then lower converter weight first), with
 * backtracking when a branch fails deeper down; plus a hash map of the static paths.
 */
export class RouteTree<R extends { method: string }> {
  /** Static paths → a match made once (the common case allocates nothing per request). */
  readonly #staticPaths = new Map<string, TreeMatch<R>>()
  readonly #root = new Node<R>()
  #empty = true

  /** Register `route` under `pattern`; two routes of one shape and method are a conflict. */
  add(pattern: CompiledPattern, route: R): void {
    this.#empty = false
    const endpoint = this.#insert(pattern)
    // Static paths also go in a hash map: one lookup for the common case of a path
    // without percent-escapes. The tree has them too, for escaped spellings of them.
    if (pattern.isStatic) this.#staticPaths.set(pattern.source, { endpoint, values: NO_VALUES })
    const method = route.method
    if (method === '*') {
      if (endpoint.anyMethod !== undefined) throw conflict(pattern.source, 'ALL')
      endpoint.anyMethod = route
    } else {
      if (endpoint.byMethod[method] !== undefined) throw conflict(pattern.source, method)
      endpoint.byMethod[method] = route
    }
    endpoint.allow = allowOf(endpoint)
  }

  /**
   * Find the endpoint for a canonical path (see `canonical.ts`): `text` is the decoded path
   * from the mount point on, `segments` its decoded segments from index `start` (or `null`
   * when the path is plain and unmounted: they are then split from `text`). Nothing here
   * decodes: the door did it once.
   */
  match(text: string, plain: boolean, segments: readonly string[] | null, start = 0): TreeMatch<R> | null {
    // An app with no routes (`carafe serve`'s) answers everything from its notFound handler.
    if (this.#empty) return null
    if (plain) {
      const exact = this.#staticPaths.get(text)
      if (exact !== undefined) return exact
    }
    const values: string[] = []
    // Unsplit (a plain, unmounted path): split here, with the leading '' skipped by starting at 1.
    const endpoint = segments === null ? walk(this.#root, text.split('/'), 1, values) : walk(this.#root, segments, start, values)
    return endpoint === null ? null : { endpoint, values }
  }

  #insert(pattern: CompiledPattern): Endpoint<R> {
    let node = this.#root
    for (const seg of pattern.segments) {
      if (seg.kind === 'static') {
        node.statics ??= new Map()
        let next = node.statics.get(seg.text)
        if (next === undefined) node.statics.set(seg.text, (next = new Node()))
        node = next
        continue
      }
      let edge = node.params.find((e) => e.seg.key === seg.key)
      if (edge === undefined) {
        const convs = seg.kind === 'param' ? [seg.conv] : seg.convs
        edge = {
          seg,
          weight: Math.max(...convs.map((c) => c.weight ?? 100)) - (seg.kind === 'mixed' ? 5 : 0),
          tail: convs.some((c) => c.slashes === true),
          node: new Node(),
        }
        node.params.push(edge)
        node.params.sort((a, b) => a.weight - b.weight)
      }
      node = edge.node
    }
    node.endpoint ??= newEndpoint()
    return node.endpoint
  }
}

function walk<R>(node: Node<R>, segs: readonly string[], i: number, values: string[]): Endpoint<R> | null {
  const seg = segs[i]!
  const last = i === segs.length - 1
  if (node.statics !== null) {
    const next = node.statics.get(seg)
    if (next !== undefined) {
      const found = last ? next.endpoint : walk(next, segs, i + 1, values)
      if (found !== null) return found
    }
  }
  for (const edge of node.params) {
    if (edge.tail) {
      const text = last ? seg : segs.slice(i).join('/')
      if (edge.node.endpoint !== null && acceptTail(edge, text, values)) return edge.node.endpoint
      continue
    }
    const mark = values.length
    if (!accept(edge.seg, seg, values)) continue
    const found = last ? edge.node.endpoint : walk(edge.node, segs, i + 1, values)
    if (found !== null) return found
    values.length = mark
  }
  return null
}

function accept(seg: ParamEdge<unknown>['seg'], text: string, values: string[]): boolean {
  if (seg.kind === 'param') {
    if (seg.re === null ? text.length === 0 : !seg.re.test(text)) return false
    values.push(text)
    return true
  }
  const m = seg.re.exec(text)
  if (m === null) return false
  for (let i = 1; i < m.length; i++) values.push(m[i]!)
  return true
}

function acceptTail(edge: ParamEdge<unknown>, text: string, values: string[]): boolean {
  const mark = values.length
  if (accept(edge.seg, text, values)) return true
  values.length = mark
  return false
}

function newEndpoint<R>(): Endpoint<R> {
  return { byMethod: Object.create(null) as Record<string, R | undefined>, anyMethod: undefined, allow: '' }
}

function allowOf<R>(e: Endpoint<R>): string {
  if (e.anyMethod !== undefined) return 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'
  const methods = new Set(Object.keys(e.byMethod))
  // WebSocket routes (app.ws) sit under their own key; they are reached by an upgrade, not a method.
  methods.delete('WS')
  if (methods.has('GET')) methods.add('HEAD')
  methods.add('OPTIONS')
  const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
  return [...methods].sort((a, b) => (order.indexOf(a) + 99) % 99 - (order.indexOf(b) + 99) % 99 || a.localeCompare(b)).join(', ')
}

function conflict(source: string, method: string): CarafeError {
  return new CarafeError('ERR_ROUTE_CONFLICT', `${method} ${source} is already registered; remove one of the two routes or give them different methods`)
}
