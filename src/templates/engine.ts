import nunjucks from 'nunjucks'
import { CarafeError } from '../core/errors.js'

/**
 * A template engine: Carafe's default is Nunjucks (Jinja2's syntax: `{{ var }}`,
 * `{% extends %}`, `{% include %}`, `{% for %}`, filters). Pass another as
 * `new Carafe({ templates: engine })`.
 */
export interface TemplateEngine {
  render(name: string, data: Record<string, unknown>): string | Promise<string>
}

/** Options for {@link createNunjucksEngine}. */
export interface NunjucksEngineOptions {
  /** Folder the template names are relative to. */
  dir: string
  /** Keep compiled templates in memory; turn off to re-read files on each render (debug, reload). @default true */
  cache?: boolean
  /** Names every template can use (e.g. `url`). @default {} */
  globals?: Record<string, unknown>
}

/**
 * The default engine: Nunjucks with autoescaping on, and Jinja2's habit of dropping the
 * single newline that ends a template file (`keep_trailing_newline=False`).
 *
 * @example
 * new Carafe({ templates: createNunjucksEngine({ dir: 'views' }) })
 */
export function createNunjucksEngine(options: NunjucksEngineOptions): TemplateEngine {
  const loader = new nunjucks.FileSystemLoader(options.dir, { noCache: options.cache === false })
  const env = new nunjucks.Environment(loader, { autoescape: true, throwOnUndefined: false })
  for (const [k, v] of Object.entries(options.globals ?? {})) env.addGlobal(k, v)
  return {
    render(name, data) {
      return new Promise((resolve, reject) => {
        env.render(name, data, (err, html) => {
          if (err !== null) {
            if (/template not found/i.test(err.message)) {
              reject(new CarafeError('ERR_TEMPLATE_NOT_FOUND', `template "${name}" was not found in ${options.dir}`))
            } else reject(err)
            return
          }
          const out = html ?? ''
          resolve(out.endsWith('\n') ? out.slice(0, -1) : out)
        })
      })
    },
  }
}
