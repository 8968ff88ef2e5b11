import type { Context } from './context.js'
import { applyResult } from './result.js'

/** Continue to the next middleware or the handler. */
export type Next = () => Promise<void>

/**
 * An onion middleware: code before `await next()` runs on the way in, after it on the way out.
 * Returning a value without calling `next()` answers the request, as a handler would.
 */
export type Middleware = (c: Context<any>, next: Next) => unknown

/**
 * Compose middleware around an innermost step into one function. Calling `next()` twice in
 * one middleware is a bug that would run the handler twice, so it rejects.
 */
export function compose(middleware: readonly Middleware[], inner: (c: Context<any>) => Promise<void>): (c: Context<any>) => Promise<void> {
  return function composed(c) {
    let index = -1
    const step = (i: number): Promise<void> => {
      if (i <= index) return Promise.reject(new Error('next() was called more than once in one middleware'))
      index = i
      if (i === middleware.length) return inner(c)
      try {
        return Promise.resolve(middleware[i]!(c, () => step(i + 1))).then((v) => applyResult(c, v))
      } catch (e) {
        return Promise.reject(e)
      }
    }
    return step(0)
  }
}
