import path from 'node:path'
import { existsSync } from 'node:fs'
import nunjucks from 'nunjucks'
import { CarafeError } from '../core/errors.js'
import { assertTemplateName, templatePath } from './name.js'

/**
 * A template engine: Carafe's default is Nunjucks (Jinja2's syntax: `{{ var }}`,
 * `{% extends %}`, `{% include %}`, `{% for %}`, filters). Pass another as
 * `new Carafe({ templates: engine })`; it gets names straight from `c.render(name)`, which
 * may come from the request, so it should check them with {@link assertTemplateName}.
 * Templates are code: never compile one from user input.
 */
export interface TemplateEngine {
  render(name: string, data: Record<string, unknown>): string | Promise<string>
  /** Mark HTML as safe, so autoescaping leaves it alone (what `csrf_field()` returns). @default the string itself */
  safe?(html: string): unknown
}

/** Options of the default template engine (Nunjucks), which `c.render()` uses. */
export interface NunjucksEngineOptions {
  /** Folder the template names are relative to. */
  dir: string
  /** Keep compiled templates in memory; turn off to re-read files on each render (debug, reload). @default true */
  cache?: boolean
  /** Names every template can use (e.g. `url`). @default {} */
  globals?: Record<string, unknown>
  /**
   * Folders searched after `dir`, in order: the batteries' default templates (`crud/list.html`),
   * which a file of the same name in `dir` overrides. @default []
   */
  fallbacks?: readonly string[]
}

/**
 * The default engine: Nunjucks with autoescaping on, and Jinja2's habit of dropping the
 * single newline that ends a template file (`keep_trailing_newline=False`). Every name it
 * loads, from `render()` or from `{% extends %}`/`{% include %}` inside a template, must
 * pass {@link assertTemplateName} and lie inside `dir`.
 *
 * @example
 * new Carafe({ templates: createNunjucksEngine({ dir: 'views' }) })
 */
export function createNunjucksEngine(options: NunjucksEngineOptions): TemplateEngine {
  const dir = path.resolve(options.dir)
  const dirs = [dir, ...(options.fallbacks ?? []).map((d) => path.resolve(d))]
  const loader = new nunjucks.FileSystemLoader(dirs, { noCache: options.cache === false })
  // Nunjucks' own check is a bare prefix test (`templates_secret/` passes for `templates/`),
  // and it turns `./x` and `../x` in a template into absolute paths: check every lookup.
  const getSource = loader.getSource.bind(loader)
  loader.getSource = (name: string) => {
    if (path.isAbsolute(name)) {
      // A `./x` or `../x` include, made absolute by Nunjucks: it must still lie inside one of the folders.
      const inside = dirs.find((d) => name.startsWith(d.endsWith(path.sep) ? d : d + path.sep))
      return getSource(templatePath(inside ?? dir, path.relative(inside ?? dir, name)))
    }
    assertTemplateName(name)
    for (const d of dirs) {
      const full = templatePath(d, name)
      if (dirs.length === 1 || existsSync(full)) return getSource(full)
    }
    return getSource(templatePath(dir, name))
  }
  const env = new nunjucks.Environment(loader, { autoescape: true, throwOnUndefined: false })
  for (const [k, v] of Object.entries(options.globals ?? {})) env.addGlobal(k, v)
  return {
    safe: (html) => new nunjucks.runtime.SafeString(html),
    render(name, data) {
      return new Promise((resolve, reject) => {
        assertTemplateName(name)
        env.render(name, data, (err, html) => {
          if (err !== null) {
            reject(notFound(err, name, dir) ?? err)
            return
          }
          const out = html ?? ''
          resolve(out.endsWith('\n') ? out.slice(0, -1) : out)
        })
      })
    },
  }
}

/**
 * Nunjucks reports a template missing inside `{% extends %}` or `{% include %}` as
 * `(/dir/outer.html)\n  Error: template not found: inner.html`, nested once per level: name
 * the template that is really missing and the one that referenced it.
 */
function notFound(err: Error, name: string, dir: string): CarafeError | null {
  const missing = /template not found: (.*)$/m.exec(err.message)
  if (missing === null) return null
  const wanted = relativeName(dir, missing[1]!.trim())
  const chain = [...err.message.slice(0, missing.index).matchAll(/\(([^()\n]+)\)/g)].map((m) => relativeName(dir, m[1]!))
  if (chain.length === 0) return new CarafeError('ERR_TEMPLATE_NOT_FOUND', `template "${wanted}" was not found in ${dir}`)
  const from = chain.reverse().map((t) => `"${t}"`).join(', from ')
  return new CarafeError('ERR_TEMPLATE_NOT_FOUND', `template "${wanted}" was not found in ${dir}; it is extended or included by ${from}${chain[chain.length - 1] === name ? '' : ` (rendering "${name}")`}`)
}

function relativeName(dir: string, file: string): string {
  if (!path.isAbsolute(file)) return file
  const rel = path.relative(dir, file)
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/')
}
