import { readFileSync } from 'node:fs'

interface EsbuildMessage { text: string; location: { line: number; column: number; lineText: string } | null }

/**
 * esbuild's first error as one line (`file:line:column: message`) and a three-line code
 * frame, instead of the compiler's stack. The error is named `CarafeSyntaxError` so
 * `carafe run` prints its message alone.
 */
export function syntaxError(file: string, source: string, e: unknown): Error {
  const first = (e as { errors?: EsbuildMessage[] }).errors?.[0]
  if (first === undefined || first.location === null) return e as Error
  const { line, lineText } = first.location
  // esbuild counts the column in UTF-8 bytes; the frame needs characters.
  const column = Buffer.from(lineText).subarray(0, first.location.column).toString().length
  const lines = source.split(/\r?\n/)
  const width = String(Math.min(line + 1, lines.length)).length
  const frame: string[] = []
  for (let n = Math.max(1, line - 1); n <= Math.min(lines.length, line + 1); n++) {
    frame.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${lines[n - 1]}`)
    if (n === line) frame.push(`  ${' '.repeat(width)} | ${lineText.slice(0, column).replace(/[^\t]/g, ' ')}^`)
  }
  const error = new Error(`${file}:${line}:${column + 1}: ${first.text}\n${frame.join('\n')}`)
  error.name = 'CarafeSyntaxError'
  return error
}

/**
 * For a `SyntaxError` from Node loading a JavaScript app file (Node 20 names neither the
 * file nor the line for ES modules): esbuild's location of the first error in `file`, or
 * `undefined` when esbuild finds none there (the error is in another module).
 */
export async function locateSyntaxError(file: string): Promise<Error | undefined> {
  const source = readFileSync(file, 'utf8')
  const { transform } = await import('esbuild')
  try {
    await transform(source, { loader: file.endsWith('x') ? 'jsx' : 'js', format: 'esm', sourcefile: file, logLevel: 'silent' })
    return undefined
  } catch (e) {
    const error = syntaxError(file, source, e)
    return error.name === 'CarafeSyntaxError' ? error : undefined
  }
}
