import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import nunjucks from 'nunjucks'
import type { Context } from '../core/context.js'
import { CarafeError } from '../core/errors.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))

/**
 * The built-in templates: copied next to this file by `npm run build` (dist/admin/templates);
 * from a compiled test tree (build/src/admin) or dist without the copy, the shipped src/ ones.
 */
function builtinDir(): string {
  const candidates = [path.join(HERE, 'templates'), path.join(HERE, '../../src/admin/templates'), path.join(HERE, '../../../src/admin/templates')]
  const found = candidates.find((d) => existsSync(path.join(d, 'admin', 'base.html')))
  if (found === undefined) throw new CarafeError('ERR_ADMIN_TEMPLATES', `admin(): the built-in templates are missing (looked in ${candidates.join(', ')})`)
  return found
}

/**
 * The admin's own template engine: the app's `templates/` first, so `templates/admin/list.html`
 * replaces the built-in `admin/list.html`, then the built-in folder. Names are the admin's
 * constants, never the request's. Autoescaping is on: every value shown came from the database.
 */
export class AdminTemplates {
  readonly #appDir: string | undefined
  #env: nunjucks.Environment | null = null

  constructor(appDir: string | undefined) {
    this.#appDir = appDir
  }

  render(c: Context<any>, name: string, data: Record<string, unknown>): Promise<string> {
    const env = (this.#env ??= this.#make(c))
    const globals: Record<string, unknown> = {
      request: c.req,
      base: c.basePath,
      current_user: c.user,
      csrf_field: () => new nunjucks.runtime.SafeString(`<input type="hidden" name="_csrf" value="${c.csrfToken()}">`),
      csrf_token: () => c.csrfToken(),
      get_flashed_messages: (withCategories?: unknown) => {
        const list = c.flashes()
        return withCategories === true || (typeof withCategories === 'object' && withCategories !== null && (withCategories as { with_categories?: unknown }).with_categories === true)
          ? list.map((f) => [f.category, f.message])
          : list.map((f) => f.message)
      },
    }
    return new Promise((resolve, reject) => {
      env.render(`admin/${name}`, { ...globals, ...data }, (err, html) => (err !== null ? reject(err) : resolve(html ?? '')))
    })
  }

  #make(c: Context<any>): nunjucks.Environment {
    const dirs = [path.resolve(c.root, this.#appDir ?? 'templates'), builtinDir()]
    const loader = new nunjucks.FileSystemLoader(dirs, { noCache: c.debug })
    return new nunjucks.Environment(loader, { autoescape: true, throwOnUndefined: false })
  }
}
