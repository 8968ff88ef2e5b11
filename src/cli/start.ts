import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseFlags, parsePort, UsageError } from './args.js'
import { TLS_FLAGS, TLS_HELP, tlsOptionsFromFlags, tlsToEnv } from './tls-flags.js'

/** `carafe start --help`. */
export const START_HELP = `Usage: carafe start <file> [options]

Serve an app in production: several worker processes under a supervisor, graceful
drain on SIGTERM/SIGINT, rolling reload on SIGHUP, one worker more/less on SIGTTIN/SIGTTOU.
Debug is off, CARAFE_SECRET is required, and a .env file next to the app is read.

Options:
      --host ADDR            address to bind (default: :: dual-stack, else 0.0.0.0)
  -p, --port PORT            port to listen on (default: 8000)
  -w, --workers N            worker processes, or auto (one per core) (default: 1)
      --log FORMAT           access log: combined (default), common, json, default or off
      --trust-proxy VALUE    believe X-Forwarded-* from these proxies: true (one hop), a hop
                             count, or addresses/CIDRs/loopback (the app's trustProxy wins)
      --timeout SECONDS      kill a worker that sends no heartbeat for this long (default: 30)
      --graceful-timeout SECONDS
                             time a draining worker gets to finish its requests (default: 30)
      --max-requests N       recycle a worker after N requests (default: 0, never)
      --max-requests-jitter N
                             plus up to N more, at random per worker (default: 0)
${TLS_HELP}  -h, --help                 show this help
`

const START_FLAGS = {
  host: { type: 'string' },
  port: { type: 'string', short: 'p' },
  workers: { type: 'string', short: 'w' },
  log: { type: 'string' },
  'trust-proxy': { type: 'string' },
  timeout: { type: 'string' },
  'graceful-timeout': { type: 'string' },
  'max-requests': { type: 'string' },
  'max-requests-jitter': { type: 'string' },
  ...TLS_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const

function count(value: string | undefined, flag: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min) throw new UsageError(`--${flag} takes a whole number${min > 0 ? ` of at least ${min}` : ''}, not "${value}"`, START_HELP)
  return n
}

/** `carafe start app.ts --workers N`: run the supervisor until it stops, then exit with its code. */
export async function startCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, START_FLAGS, START_HELP)
  if (values.help === true) return void process.stdout.write(START_HELP)
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the app file, e.g. carafe start app.ts' : `one app file, please (got ${positionals.join(' ')})`, START_HELP)
  const file = path.resolve(positionals[0]!)
  if (!existsSync(file)) {
    console.error(`carafe: no such file: ${positionals[0]}`)
    process.exit(1)
  }
  const str = (k: keyof typeof START_FLAGS): string | undefined => values[k] === undefined ? undefined : String(values[k])
  const workersFlag = str('workers')
  const workers = workersFlag === 'auto' ? availableParallelism() : count(workersFlag, 'workers', 1, 1)
  const port = str('port') === undefined ? Number(process.env.PORT ?? 8000) : parsePort(str('port')!, START_HELP)
  const log = str('log') ?? 'combined'
  if (!['default', 'common', 'combined', 'json', 'off'].includes(log)) throw new UsageError(`--log takes combined, common, json, default or off, not "${log}"`, START_HELP)

  // Production: settings from a .env file next to the app (never overriding the
  // environment), no debug, no development secret.
  const { loadDotEnv } = await import('./dotenv.js')
  loadDotEnv(path.dirname(file))
  delete process.env.CARAFE_DEV_SECRET
  delete process.env.CARAFE_DEBUG
  process.env.NODE_ENV ??= 'production'
  process.env.CARAFE_APP_FILE = file
  if (str('trust-proxy') !== undefined) {
    const { compileTrust } = await import('../util/proxy.js')
    const value = str('trust-proxy')!
    try {
      compileTrust(value === 'true' ? true : /^\d+$/.test(value) ? Number(value) : value)
    } catch (e) {
      throw new UsageError(`--trust-proxy: ${(e as Error).message}`, START_HELP)
    }
    process.env.CARAFE_TRUST_PROXY = value
  }
  // The certificate is read and checked here, once: a bad path is one line before anything
  // starts, and a development certificate is made once, not by each worker at the same time.
  const tls = tlsOptionsFromFlags(values, START_HELP)
  if (tls !== undefined) {
    const { loadTls } = await import('../server/tls.js')
    try {
      await loadTls(tls)
    } catch (e) {
      console.error(`carafe: cannot serve HTTPS: ${(e as Error).message}`)
      process.exit(1)
    }
    tlsToEnv(tls)
  }
  const { moduleTypeWarning } = await import('./module-type.js')
  const warning = moduleTypeWarning(file)
  if (warning !== undefined) console.error(warning)

  const { Supervisor } = await import('../server/supervisor.js')
  const supervisor = new Supervisor({
    file,
    exec: path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js'),
    host: str('host'),
    port,
    workers,
    timeout: count(str('timeout'), 'timeout', 30, 1),
    gracefulTimeout: count(str('graceful-timeout'), 'graceful-timeout', 30),
    maxRequests: count(str('max-requests'), 'max-requests', 0),
    maxRequestsJitter: count(str('max-requests-jitter'), 'max-requests-jitter', 0),
    env: { CARAFE_LOG: log },
    log: (line) => console.error(line),
    onListening: (a) => console.log(banner(a.host, a.port, workers, tls !== undefined)),
  })
  let code: number
  try {
    const started = supervisor.start()
    code = await started
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    const where = `${str('host') ?? '::'} port ${port}`
    if (err.code === 'EADDRINUSE') console.error(`carafe: cannot serve on ${where}: the port is already in use (pick another with --port)`)
    else if (err.code === 'EACCES') console.error(`carafe: cannot serve on ${where}: permission denied (ports below 1024 need privileges)`)
    else console.error(`carafe: cannot serve on ${where}: ${err.message}`)
    process.exit(1)
  }
  process.exit(code)
}

/** The line printed once the socket is bound. */
function banner(host: string, port: number, workers: number, secure: boolean): string {
  const urlHost = host === '::' || host === '0.0.0.0' ? 'localhost' : host.includes(':') ? `[${host}]` : host
  return `Serving ${secure ? 'HTTPS' : 'HTTP'} on ${host} port ${port} (${secure ? 'https' : 'http'}://${urlHost}:${port}/) with ${workers} worker${workers === 1 ? '' : 's'} ...`
}
