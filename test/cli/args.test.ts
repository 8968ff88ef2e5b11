import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { HELP, ROUTES_HELP, RUN_HELP, SECRET_HELP } from '../../src/cli/main.js'
import { SERVE_HELP } from '../../src/cli/serve.js'
import { spawnCli } from '../helpers/spawn.js'

describe('carafe command-line mistakes', { timeout: 60_000 }, () => {
  it('names an unknown flag plainly, suggests the near miss, and prints that subcommand\'s usage', async (t) => {
    const cases: Array<[string[], string, string]> = [
      [['run', 'app.ts', '--prot', '80'], 'unknown option --prot (did you mean --port?)', RUN_HELP],
      [['run', 'app.ts', '--relaod'], 'unknown option --relaod (did you mean --reload?)', RUN_HELP],
      [['run', 'app.ts', '--frobnicate'], 'unknown option --frobnicate', RUN_HELP],
      [['run', 'app.ts', '--port'], '--port needs a value', RUN_HELP],
      [['run', 'app.ts', '--debug=yes'], '--debug takes no value (got "yes")', RUN_HELP],
      [['run', 'app.ts', '--ignore', '*.csv'], '--ignore only applies with --reload', RUN_HELP],
      [['serve', '--brotly'], 'unknown option --brotly (did you mean --brotli?)', SERVE_HELP],
      [['serve', '-x'], 'unknown option -x', SERVE_HELP],
      [['routes', 'app.ts', '--verbose'], 'unknown option --verbose', ROUTES_HELP],
      [['secret', '--length', '64'], 'unknown option --length', SECRET_HELP],
      [['serv'], 'unknown command "serv" (did you mean serve?)', HELP],
      [['--bogus'], 'unknown option --bogus', HELP],
    ]
    for (const [args, message, usage] of cases) {
      const p = spawnCli(t, args)
      assert.equal(await p.exited, 2, args.join(' '))
      assert.equal(p.stderr(), `carafe: ${message}\n\n${usage}`, args.join(' '))
    }
  })

  it('prints each subcommand\'s own help for --help', async (t) => {
    for (const [cmd, usage] of [['run', RUN_HELP], ['routes', ROUTES_HELP], ['secret', SECRET_HELP]] as const) {
      const p = spawnCli(t, [cmd, '--help'])
      assert.equal(await p.exited, 0)
      assert.equal(p.stdout(), usage)
    }
    assert.match(RUN_HELP, /--ignore GLOB/)
  })
})
