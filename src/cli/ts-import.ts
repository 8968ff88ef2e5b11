/**
 * Registers Carafe's TypeScript hooks (ts-hooks.ts) when imported: `carafe test` starts
 * `node --test --import <this file>`, so every test process loads `.ts` test files and the
 * `.ts` modules they import the way `carafe run` loads an app.
 */
import { registerTypeScript } from './ts-register.js'

await registerTypeScript()
