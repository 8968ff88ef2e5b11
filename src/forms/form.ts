import { HttpError } from '../core/errors.js'
import type { UploadedFile } from './uploads.js'

/** A form field value: text, or a file from a multipart upload. */
export type FormValue = string | UploadedFile

const MAX_DEPTH = 5
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * A parsed form (urlencoded or multipart), like Flask's `request.form` plus `request.files`:
 * names can repeat, so `get()` gives the first value and `getAll()` every one.
 */
export class Form {
  readonly #values = new Map<string, FormValue[]>()

  /** Add a value (used by the parsers). */
  append(name: string, value: FormValue): void {
    const list = this.#values.get(name)
    if (list === undefined) this.#values.set(name, [value])
    else list.push(value)
  }

  /** The first value of a field, or `undefined`. */
  get(name: string): FormValue | undefined {
    return this.#values.get(name)?.[0]
  }

  /** The first value of a field when it is text. */
  text(name: string): string | undefined {
    const v = this.get(name)
    return typeof v === 'string' ? v : undefined
  }

  /** The first value of a field when it is a file. */
  file(name: string): UploadedFile | undefined {
    const v = this.get(name)
    return typeof v === 'string' ? undefined : v
  }

  /** Every value of a field. */
  getAll(name: string): FormValue[] {
    return this.#values.get(name)?.slice() ?? []
  }

  /** True when the field was sent. */
  has(name: string): boolean {
    return this.#values.has(name)
  }

  /** Field names in the order they arrived. */
  keys(): string[] {
    return [...this.#values.keys()]
  }

  /** Every uploaded file. */
  get files(): UploadedFile[] {
    const out: UploadedFile[] = []
    for (const list of this.#values.values()) for (const v of list) if (typeof v !== 'string') out.push(v)
    return out
  }

  /**
   * The form as a plain object for validation: a repeated name becomes an array; bracket
   * names nest (`a[b]=1` gives `{ a: { b: '1' } }`, `tags[]=x` gives `{ tags: ['x'] }`) at most
   * five levels deep, and `__proto__`, `constructor` and `prototype` are refused with 400, so
   * a form can never pollute a prototype. Objects have no prototype.
   */
  toObject(): Record<string, unknown> {
    const out = Object.create(null) as Record<string, unknown>
    for (const [name, values] of this.#values) {
      const keys = splitKey(name)
      for (const value of values) assign(out, keys, value)
    }
    return out
  }
}

function splitKey(name: string): string[] {
  const m = /^([^[\]]+)((?:\[[^[\]]*\])+)$/.exec(name)
  if (m === null) return check([name])
  const parts = [m[1]!, ...m[2]!.slice(1, -1).split('][')]
  // Deeper than the bound: keep the rest as one literal key rather than nest without end.
  if (parts.length > MAX_DEPTH) return check([...parts.slice(0, MAX_DEPTH - 1), parts.slice(MAX_DEPTH - 1).join('.')])
  return check(parts)
}

function check(keys: string[]): string[] {
  for (const k of keys) {
    if (FORBIDDEN.has(k)) throw new HttpError(400, `the form field name "${k}" is not allowed`, { code: 'ERR_FORBIDDEN_FIELD' })
  }
  return keys
}

function assign(target: Record<string, unknown>, keys: string[], value: FormValue): void {
  let obj = target
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i]!
    const next = keys[i + 1]
    if (next === '') {
      const arr = Array.isArray(obj[k]) ? (obj[k] as unknown[]) : (obj[k] = [] as unknown[])
      if (i + 1 === keys.length - 1) arr.push(value)
      return
    }
    let child = obj[k]
    if (typeof child !== 'object' || child === null || Array.isArray(child) || isFile(child)) {
      child = Object.create(null) as Record<string, unknown>
      obj[k] = child
    }
    obj = child as Record<string, unknown>
  }
  const last = keys[keys.length - 1]!
  const prev = obj[last]
  if (prev === undefined) obj[last] = value
  else if (Array.isArray(prev)) prev.push(value)
  else obj[last] = [prev, value]
}

function isFile(v: unknown): boolean {
  return typeof v === 'object' && v !== null && 'originalFilename' in v
}
