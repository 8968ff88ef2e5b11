import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A command-line mistake: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

type Options = NonNullable<ParseArgsConfig['options']>

/** Parse `argv` strictly: an unknown flag or a missing value is a {@link UsageError}. */
export function parseFlags<O extends Options>(argv: string[], options: O): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
    return { values: values as Record<string, string | boolean | undefined>, positionals }
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''))
  }
}

/** A TCP port from a flag or positional; a {@link UsageError} when it is not one. */
export function parsePort(text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || n > 65535) throw new UsageError(`"${text}" is not a port number (0-65535)`)
  return n
}
