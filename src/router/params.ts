/**
 * Types of converter values, by converter name. Augment it to type a custom converter:
 *
 * @example
 * declare module 'carafe' { interface ConverterTypes { hex: number } }
 */
export interface ConverterTypes {
  string: string
  int: number
  float: number
  path: string
  uuid: string
  any: string
}

type ConverterName<C extends string> = C extends `${infer Base}(${string}` ? Base : C
type ValueOf<C extends string> = ConverterName<C> extends keyof ConverterTypes ? ConverterTypes[ConverterName<C>] : unknown

/** Names ending an Express-style `:name`: the name stops at the first non-word character. */
type ColonName<S extends string, Acc extends string = ''> =
  S extends `${infer Ch}${infer Rest}`
    ? Ch extends Word ? ColonName<Rest, `${Acc}${Ch}`> : Acc
    : Acc
type Word =
  | 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'i' | 'j' | 'k' | 'l' | 'm' | 'n' | 'o' | 'p' | 'q' | 'r' | 's' | 't' | 'u' | 'v' | 'w' | 'x' | 'y' | 'z'
  | 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'N' | 'O' | 'P' | 'Q' | 'R' | 'S' | 'T' | 'U' | 'V' | 'W' | 'X' | 'Y' | 'Z'
  | '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '_'

type SegmentParams<S extends string> =
  S extends `${string}<${infer Inner}>${infer Rest}`
    ? (Inner extends `${infer C}:${infer N}` ? { [K in N]: ValueOf<C> } : { [K in Inner]: string }) & SegmentParams<Rest>
    : S extends `${string}:${infer After}`
      ? { [K in ColonName<After>]: string } & SegmentParams<After>
      : S extends `${string}*` ? { '*': string } : unknown

type Split<P extends string> = P extends `${infer Head}/${infer Tail}` ? SegmentParams<Head> & Split<Tail> : SegmentParams<P>
type Simplify<T> = { [K in keyof T]: T[K] } & {}

/**
 * The parameters of a route pattern, inferred from its text:
 * `ParamsOf<'/users/<int:id>/:tab'>` is `{ id: number; tab: string }`.
 */
export type ParamsOf<P extends string> = string extends P ? Record<string, unknown> : Simplify<Split<P>>
