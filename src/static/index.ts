/**
 * `carafe/static`: the static file engine itself, for code that drives it directly
 * (`carafe serve`'s app, custom handlers). Apps usually need only `staticFile()`,
 * `app.static()` and the `static` option, from `carafe`.
 */
export { StaticEngine } from './engine.js'
export { createFolderApp } from './serve-folder.js'
export type { StaticOptions, CompressOptions } from './options.js'
