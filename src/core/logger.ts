import { CarafeError } from './errors.js'

/** How much `c.log` and `app.log` write: the lines at this level and above; `silent` writes none. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

/** Extra fields of a log line (`c.log.info('paid', { orderId: 7 })`); an `Error` value is written as its name, message, code and stack. */
export type LogFields = Record<string, unknown>

/** Options for the app's logger (the `logger` option of `new Carafe()`). */
export interface LoggerOptions {
  /** The lowest level written. @default CARAFE_LOG_LEVEL, else 'info' */
  level?: LogLevel
  /** Where each line goes: one JSON object as text, without the newline. @default a line on stderr */
  write?: (line: string) => void
}

/** A logger: one JSON object a line, `{"time","level","msg",…fields}`. */
export interface Log {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  /** True when a line at `level` would be written (to skip building costly fields). */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** What a request adds to each of its lines, after `msg`. */
interface RequestFacts {
  readonly requestId: string
  readonly method: string
  readonly path: string
}

/**
 * The app's logger (`app.log`), and the writer behind every request's `c.log`. Nothing is
 * built for a line below the level: the level test comes first.
 */
export class AppLogger implements Log {
  /** The lowest level written. */
  readonly level: LogLevel
  /** True when the app was given a `logger` option: errors of 500 answers then go through it, with the request id. */
  readonly configured: boolean
  readonly #min: number
  readonly #write: (line: string) => void

  constructor(options: LoggerOptions | undefined, env: NodeJS.ProcessEnv = process.env) {
    const level = options?.level ?? (env.CARAFE_LOG_LEVEL === undefined || env.CARAFE_LOG_LEVEL === '' ? 'info' : env.CARAFE_LOG_LEVEL.toLowerCase())
    if (!Object.hasOwn(RANK, level)) {
      const from = options?.level !== undefined ? 'the logger level option' : 'CARAFE_LOG_LEVEL'
      throw new CarafeError('ERR_LOG_LEVEL', `${from} is ${JSON.stringify(level)}; use one of ${Object.keys(RANK).join(', ')}`)
    }
    this.level = level as LogLevel
    this.#min = RANK[this.level]
    this.configured = options !== undefined
    this.#write = options?.write ?? writeStderr
  }

  enabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return RANK[level] >= this.#min
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.#min <= 10) this.emit('debug', msg, fields, undefined)
  }

  info(msg: string, fields?: LogFields): void {
    if (this.#min <= 20) this.emit('info', msg, fields, undefined)
  }

  warn(msg: string, fields?: LogFields): void {
    if (this.#min <= 30) this.emit('warn', msg, fields, undefined)
  }

  error(msg: string, fields?: LogFields): void {
    if (this.#min <= 40) this.emit('error', msg, fields, undefined)
  }

  /** Write one line (the level was checked by the caller). A field that cannot become JSON never loses the line. @internal */
  emit(level: Exclude<LogLevel, 'silent'>, msg: string, fields: LogFields | undefined, facts: RequestFacts | undefined): void {
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg: String(msg) }
    if (facts !== undefined) {
      line.requestId = facts.requestId
      line.method = facts.method
      line.path = facts.path
    }
    // The line's own keys win: a field named `level` or `time` must not fake them.
    if (fields !== undefined) for (const k in fields) if (!(k in line)) line[k] = fields[k]
    let text: string
    try {
      text = JSON.stringify(line, jsonValue)
    } catch (e) {
      text = JSON.stringify({ time: line.time, level, msg: line.msg, ...facts, logError: `the fields could not be written as JSON: ${(e as Error).message}` })
    }
    try {
      this.#write(text)
    } catch {
      // A sink that fails (stderr closed) must not fail the request that logs.
    }
  }

  /** The logger of one request: its lines carry the request id, method and path. @internal */
  forRequest(facts: RequestFacts): Log {
    return new RequestLog(this, facts)
  }
}

/** `c.log`: made on first use of `c.log`, so a request that logs nothing pays nothing. */
class RequestLog implements Log {
  readonly #logger: AppLogger
  readonly #facts: RequestFacts

  constructor(logger: AppLogger, facts: RequestFacts) {
    this.#logger = logger
    this.#facts = facts
  }

  enabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return this.#logger.enabled(level)
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.#logger.enabled('debug')) this.#logger.emit('debug', msg, fields, this.#facts)
  }

  info(msg: string, fields?: LogFields): void {
    if (this.#logger.enabled('info')) this.#logger.emit('info', msg, fields, this.#facts)
  }

  warn(msg: string, fields?: LogFields): void {
    if (this.#logger.enabled('warn')) this.#logger.emit('warn', msg, fields, this.#facts)
  }

  error(msg: string, fields?: LogFields): void {
    if (this.#logger.enabled('error')) this.#logger.emit('error', msg, fields, this.#facts)
  }
}

/** JSON.stringify drops what an `Error` says (its properties are not enumerable) and throws on a bigint. */
function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }), stack: value.stack }
  }
  return typeof value === 'bigint' ? value.toString() : value
}

function writeStderr(line: string): void {
  process.stderr.write(`${line}\n`)
}
