import { parseArgs, type ParseArgsConfig } from 'node:util'

/**
 * A command-line mistake: the CLI prints the message and `usage` (the subcommand's own
 * usage when the mistake is in a subcommand, else the top-level one), and exits 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  /** The usage text to print after the message; `undefined` for the top-level help. */
  readonly usage: string | undefined
  constructor(message: string, usage?: string) {
    super(message)
    this.usage = usage
  }
}

type Options = NonNullable<ParseArgsConfig['options']>

/** What {@link parseFlags} returns: flag values by long name, and the positionals. */
export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/**
 * Parse `argv` strictly: an unknown flag (with a did-you-mean for a near miss), a missing
 * value or a value given to a switch is a {@link UsageError} carrying `usage`.
 *
 * The checks are ours rather than `parseArgs`' strict mode, whose messages quote
 * unevenly and suggest `--` for what is nearly always a typo.
 */
export function parseFlags(argv: string[], options: Options, usage?: string): ParsedFlags {
  const { values, positionals, tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true })
  for (const token of tokens) {
    if (token.kind !== 'option') continue
    const spec = options[token.name]
    if (spec === undefined) {
      const near = token.rawName.startsWith('--') ? nearest(token.name, Object.keys(options)) : undefined
      throw new UsageError(`unknown option ${token.rawName}${near === undefined ? '' : ` (did you mean --${near}?)`}`, usage)
    }
    if (spec.type === 'string' && token.value === undefined) throw new UsageError(`${token.rawName} needs a value`, usage)
    if (spec.type === 'boolean' && token.value !== undefined) throw new UsageError(`${token.rawName} takes no value (got "${token.value}")`, usage)
  }
  return { values: values as ParsedFlags['values'], positionals }
}

/** The candidate closest to `word` when it is a near miss (a typo or two), else `undefined`. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 3 ? 1 : distance(word, c)
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  return bestDistance <= Math.max(1, Math.min(2, Math.floor(word.length / 3))) ? best : undefined
}

/** Damerau-Levenshtein (optimal string alignment) distance: a swapped pair counts as one edit. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

/** A TCP port from a flag or positional; a {@link UsageError} when it is not one. */
export function parsePort(text: string, usage?: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || n > 65535) throw new UsageError(`"${text}" is not a port number (0-65535)`, usage)
  return n
}
