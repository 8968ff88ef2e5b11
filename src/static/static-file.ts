import { stat } from 'node:fs/promises'
import path from 'node:path'
import mime from 'mime-types'
import type { Context, Respondable } from '../core/context.js'
import { HttpError } from '../core/errors.js'

/** Options for {@link staticFile}. */
export interface StaticFileOptions {
  /** Folder the file name is relative to; a relative root resolves against the app's root folder. @default '.' */
  root?: string
  /** Override the `Content-Type`. @default from the file extension */
  type?: string
}

/**
 * Bottle's `static_file`: answer with a file under `root`. A name that would leave the root
 * is refused with 404.
 *
 * @example
 * route('/', () => staticFile('my_saying_homepage.html', { root: '.' }))
 */
export function staticFile(name: string, options: StaticFileOptions = {}): Respondable {
  return {
    async respond(c: Context<any>) {
      const root = path.resolve(c.root, options.root ?? '.')
      const full = path.resolve(root, name)
      if (full !== root && !full.startsWith(root + path.sep)) throw new HttpError(404, 'file not found')
      let st
      try { st = await stat(full) } catch { throw new HttpError(404, 'file not found') }
      if (!st.isFile()) throw new HttpError(404, 'file not found')
      const type = options.type ?? (mime.contentType(path.extname(full)) || 'application/octet-stream')
      c.header('content-length', st.size)
      c.body({ kind: 'file', path: full, start: 0, end: st.size - 1 }, 200, type)
    },
  }
}
