import path from 'node:path'
import { CarafeError } from '../core/errors.js'

/**
 * Check a template name before any engine looks it up. A name often comes from the request
 * (`c.render(`${c.params.page}.html`)`), and a name like `../templates_secret/x.html` (sent
 * as `%2e%2e%2f…`, which the router decodes) must not reach a file outside the folder.
 * The rule: a relative path with `/` separators and no `.` or `..` segment, no empty
 * segment, no backslash (a separator on Windows) and no NUL. Throws `ERR_TEMPLATE_NAME`.
 *
 * Templates are code: this guards which file is rendered, never what a template does.
 * Never compile a template from user input.
 *
 * @example
 * assertTemplateName('pages/about.html') // ok
 * assertTemplateName('../secret.html')   // throws ERR_TEMPLATE_NAME
 */
export function assertTemplateName(name: string): void {
  if (typeof name !== 'string' || name === '' || /[\\\0]/.test(name) || name.startsWith('/') || path.isAbsolute(name) ||
    name.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) {
    throw badName(name)
  }
}

/** The absolute path of template `name` in `dir`, or an error when it would lie outside `dir` (separator-aware: `templates_secret` is not inside `templates`). */
export function templatePath(dir: string, name: string): string {
  const root = path.resolve(dir)
  const full = path.resolve(root, name)
  if (!full.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) throw badName(name)
  return full
}

function badName(name: string): CarafeError {
  return new CarafeError('ERR_TEMPLATE_NAME', `${JSON.stringify(String(name))} is not a template name Carafe will load: use a relative path inside the template folder, without "..", "." or empty segments, a leading "/", "\\\\" or NUL`)
}
