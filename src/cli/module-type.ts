import { readFileSync } from 'node:fs'
import path from 'node:path'

/**
 * A warning when `carafe run` would load the TypeScript app `file` as an ES module while
 * its nearest package.json makes it CommonJS for `tsc` (a missing `"type"`, or
 * `"type": "commonjs"` as `npm init -y` writes): the code runs one way and is type-checked
 * another (`import.meta`, top-level await, `require`). `undefined` when they agree.
 */
export function moduleTypeWarning(file: string): string | undefined {
  if (!/\.tsx?$/.test(file)) return undefined // .mts is ESM for both; .js is Node's own call
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pkgFile = path.join(dir, 'package.json')
    let text: string | undefined
    try {
      text = readFileSync(pkgFile, 'utf8')
    } catch {
      // none here: look further up
    }
    if (text !== undefined) {
      let type: unknown
      try {
        type = (JSON.parse(text) as { type?: unknown }).type
      } catch {
        return undefined // Node will say what is wrong with it
      }
      if (type === 'module') return undefined
      const says = type === undefined ? 'has no "type" (so CommonJS)' : `says "type": ${JSON.stringify(type)}`
      return `carafe: warning: ${pkgFile} ${says}, but carafe run loads ${path.basename(file)} as an ES module, so tsc checks it as something it does not run as. Set "type": "module" in package.json (or name the file .mts).`
    }
    if (path.dirname(dir) === dir) return undefined
  }
}
