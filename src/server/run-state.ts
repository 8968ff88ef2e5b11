import type { Carafe } from '../core/app.js'

/**
 * Apps on which `run()` was called, in order, recorded synchronously (before `run()` does any
 * async work) so `carafe run` knows whether a script started its own server and
 * `carafe routes` can find the app a script runs.
 */
export const RUN_APPS: Carafe[] = []
