import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { HELP } from '../../src/cli/main.js'
import { appDir, CLI, spawnCli, waitForServer } from '../helpers/spawn.js'

const HELLO_TS = `import { Carafe } from 'carafe'
const app = new Carafe()
app.get('/', function home() { return 'hello from ts' })
app.get('/users/<int:id>', function user(c) { const n: number = c.params.id; return { n } })
app.get('/boom', () => {
  const why: string = 'typed source line'
  throw new Error(why)
})
app.run({ port: 8000 })
`

describe('carafe CLI', () => {
  it('is an executable file, so npx carafe and the installed bin can start it', () => {
    assert.ok((statSync(CLI).mode & 0o111) !== 0, `${CLI} is not executable`)
    assert.match(readFileSync(CLI, 'utf8').split('\n')[0]!, /^#!\/usr\/bin\/env node$/)
  })

  it('prints --help (snapshot) and --version', async (t) => {
    const help = spawnCli(t, ['--help'])
    assert.equal(await help.exited, 0)
    assert.equal(help.stdout(), HELP)
    assert.match(HELP, /^Usage: carafe <command> \[options\]\n\nCommands:\n  serve \[dir\] \[port\]/)
    const version = spawnCli(t, ['--version'])
    assert.equal(await version.exited, 0)
    assert.match(version.stdout(), /^carafe \d+\.\d+\.\d+ \(node v\d+/)
  })

  it('exits 2 with a usage message on an unknown flag or command', async (t) => {
    for (const args of [['--bogus'], ['frobnicate'], ['run', 'x.ts', '--bogus'], ['run']]) {
      const p = spawnCli(t, args)
      assert.equal(await p.exited, 2, args.join(' '))
      assert.match(p.stderr(), /^carafe: .+\n\nUsage: carafe/)
    }
  })

  it('runs a TypeScript app with no build step; --port overrides the code; SIGTERM exits 0', async (t) => {
    const dir = await appDir()
    const file = path.join(dir, 'app.ts')
    await writeFile(file, HELLO_TS)
    const p = spawnCli(t, ['run', file, '--port', '0', '--host', '127.0.0.1'])
    const url = await waitForServer(p)
    const res = await fetch(url + '/')
    assert.equal(await res.text(), 'hello from ts')
    assert.deepEqual(await (await fetch(url + '/users/3')).json(), { n: 3 })
    await p.waitFor(/"GET \/users\/3 HTTP\/1\.1" 200 -/)
    p.child.kill('SIGTERM')
    assert.equal(await p.exited, 0)
  })

  it('--debug shows TypeScript source lines (via source maps) in the error page', async (t) => {
    const dir = await appDir()
    const file = path.join(dir, 'app.ts')
    await writeFile(file, HELLO_TS)
    const p = spawnCli(t, ['run', file, '--port', '0', '--host', '127.0.0.1', '--debug'])
    const url = await waitForServer(p)
    assert.match(p.stdout(), /Debug mode: on/)
    const res = await fetch(url + '/boom')
    assert.equal(res.status, 500)
    const html = await res.text()
    assert.match(html, /const why: string = &#39;typed source line&#39;/)
    assert.match(html, /app\.ts:7:/)
  })

  it('says in one line that the port is in use, and exits 1', async (t) => {
    const blocker = net.createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()))
    t.after(() => blocker.close())
    const port = (blocker.address() as net.AddressInfo).port
    const dir = await appDir()
    const file = path.join(dir, 'app.ts')
    await writeFile(file, HELLO_TS)
    const p = spawnCli(t, ['run', file, '--port', String(port), '--host', '127.0.0.1'])
    assert.equal(await p.exited, 1)
    assert.equal(p.stderr(), `carafe: cannot serve on 127.0.0.1 port ${port}: the port is already in use (pick another with --port)\n`)
  })

  it('prints the route table with carafe routes', async (t) => {
    const dir = await appDir()
    const file = path.join(dir, 'app.ts')
    await writeFile(file, HELLO_TS)
    const p = spawnCli(t, ['routes', file])
    assert.equal(await p.exited, 0)
    assert.equal(p.stdout(), [
      'Name  Methods  Pattern',
      '----  -------  ---------------',
      'home  GET      /',
      'user  GET      /users/<int:id>',
      '-     GET      /boom',
      '',
    ].join('\n'))
  })

  it('runs an app that is only exported (export default app)', async (t) => {
    const dir = await appDir()
    const file = path.join(dir, 'app.ts')
    await writeFile(file, `import { Carafe } from 'carafe'\nconst app = new Carafe()\napp.get('/', () => 'exported')\nexport default app\n`)
    const p = spawnCli(t, ['run', file, '--port', '0', '--host', '127.0.0.1'])
    const url = await waitForServer(p)
    assert.equal(await (await fetch(url)).text(), 'exported')
  })

  it('runs TypeScript modules imported the ways TypeScript code writes them, and sees edits', async (t) => {
    const dir = await appDir()
    await mkdir(path.join(dir, 'lib'))
    await writeFile(path.join(dir, 'greet.ts'), `export const greet = (name: string): string => \`hi \${name}\`\n`)
    await writeFile(path.join(dir, 'lib', 'index.ts'), `export enum Mood { Happy = 'happy' }\n`)
    await writeFile(path.join(dir, 'count.mts'), `export const count: number = 3\n`)
    await writeFile(path.join(dir, 'plain.js'), `export const plain = 'js'\n`)
    const app = path.join(dir, 'app.ts')
    const source = (word: string): string => [
      `import { Carafe } from 'carafe'`,
      `import { greet } from './greet.js'`, // .js naming the .ts file (TypeScript's ESM style)
      `import { Mood } from './lib'`, // a folder with index.ts
      `import { count } from './count.mjs'`,
      `import { plain } from './plain.js'`,
      `import type { Context } from 'carafe'`,
      `const app = new Carafe()`,
      `app.get('/', (c: Context) => \`\${greet('${word}')} \${Mood.Happy} \${count} \${plain}\`)`,
      `export default app`,
    ].join('\n')
    await writeFile(app, source('kim'))
    let p = spawnCli(t, ['run', app, '--port', '0', '--host', '127.0.0.1'])
    assert.equal(await (await fetch(await waitForServer(p))).text(), 'hi kim happy 3 js')
    p.child.kill('SIGTERM')
    await p.exited
    // The compiled copy is cached by size and modification time: an edit is seen at once.
    await writeFile(app, source('lee'))
    p = spawnCli(t, ['run', app, '--port', '0', '--host', '127.0.0.1'])
    assert.equal(await (await fetch(await waitForServer(p))).text(), 'hi lee happy 3 js')
  })

  it('--reload restarts the app when its source changes', async (t) => {
    const dir = await appDir()
    const file = path.join(dir, 'app.ts')
    await writeFile(file, `import { route, run } from 'carafe'\nroute('/', () => 'version 1')\nrun()\n`)
    const p = spawnCli(t, ['run', file, '--port', '0', '--host', '127.0.0.1', '--reload'])
    const url = await waitForServer(p)
    assert.equal(await (await fetch(url)).text(), 'version 1')
    await writeFile(file, `import { route, run } from 'carafe'\nroute('/', () => 'version 2')\nrun()\n`)
    await p.waitFor(/Detected change in/)
    await p.waitFor(/Serving HTTP on[^]*Serving HTTP on (\S+) port (\d+)/)
    const second = p.stdout().match(/Serving HTTP on \S+ port (\d+)[^]*Serving HTTP on \S+ port (\d+)/)!
    assert.equal(await (await fetch(`http://127.0.0.1:${second[2]}/`)).text(), 'version 2')
    p.child.kill('SIGTERM')
    assert.equal(await p.exited, 0)
  })
})
