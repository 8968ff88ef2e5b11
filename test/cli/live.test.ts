import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { appDir, spawnCli, waitForServer } from '../helpers/spawn.js'

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

function request(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => chunks.push(d)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** An open event stream: every event block received so far. */
function events(t: TestContext, url: string): Promise<{ blocks: string[]; next(re: RegExp, ms?: number): Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      assert.equal(res.statusCode, 200)
      assert.match(String(res.headers['content-type']), /^text\/event-stream/)
      let text = ''
      const blocks: string[] = []
      const waiters: Array<() => void> = []
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d
        let i
        while ((i = text.indexOf('\n\n')) >= 0) {
          blocks.push(text.slice(0, i))
          text = text.slice(i + 2)
        }
        for (const w of waiters.slice()) w()
      })
      const stream = {
        blocks,
        next(re: RegExp, ms = 10_000): Promise<string> {
          return new Promise<string>((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`no event ${re} in ${JSON.stringify(blocks)}`)), ms)
            const check = (): void => {
              const found = blocks.find((b) => re.test(b))
              if (found === undefined) return
              blocks.splice(blocks.indexOf(found), 1)
              clearTimeout(timer)
              waiters.splice(waiters.indexOf(check), 1)
              ok(found)
            }
            waiters.push(check)
            check()
          })
        },
        close: () => req.destroy(),
      }
      t.after(() => req.destroy())
      resolve(stream)
    })
    req.on('error', reject)
  })
}

const PAGE = '<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body><h1>Hi</h1></body></html>\n'

describe('live reload', { timeout: 60_000 }, () => {
  it('carafe serve --live adds the script to HTML pages only (length and ETag fixed up, HEAD agrees), and sends css / reload events on changes', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-live-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    await writeFile(path.join(dir, 'index.html'), PAGE)
    await writeFile(path.join(dir, 'style.css'), 'h1 { color: red }\n')
    const p = spawnCli(t, ['serve', dir, '--port', '0', '--bind', '127.0.0.1', '--live', '-q'])
    const url = await waitForServer(p)

    const page = await request(`${url}/`)
    assert.equal(page.status, 200)
    const html = page.body.toString()
    assert.equal(html, PAGE.replace('</body>', '<script src="/__carafe/live.js"></script></body>'))
    assert.equal(Number(page.headers['content-length']), page.body.byteLength)
    assert.match(String(page.headers.etag), /-live"$/)
    const head = await request(`${url}/`, 'HEAD')
    assert.equal(head.headers['content-length'], page.headers['content-length'])
    assert.equal(head.headers.etag, page.headers.etag)
    const css = await request(`${url}/style.css`)
    assert.equal(css.body.toString(), 'h1 { color: red }\n', 'not HTML: untouched')
    const script = await request(`${url}/__carafe/live.js`)
    assert.equal(script.status, 200)
    assert.match(String(script.headers['content-type']), /^text\/javascript/)
    assert.match(script.body.toString(), /new EventSource\("\/__carafe\/live"\)/)

    const stream = await events(t, `${url}/__carafe/live`)
    assert.match(await stream.next(/^retry: 500\nevent: hello\ndata: \S+$/), /hello/)
    await writeFile(path.join(dir, 'style.css'), 'h1 { color: blue }\n')
    assert.equal(await stream.next(/event: css/), 'event: css\ndata: /style.css')
    // Saved the way editors do: a new file renamed over the old one.
    await writeFile(path.join(dir, 'index.tmp'), PAGE.replace('Hi', 'Hello'))
    await rename(path.join(dir, 'index.tmp'), path.join(dir, 'index.html'))
    assert.match(await stream.next(/event: reload/), /^event: reload/)
    assert.match((await request(`${url}/`)).body.toString(), /Hello<\/h1><script src="\/__carafe\/live.js"><\/script><\/body>/)

    // Ctrl+C with a stream open does not wait for the drain deadline.
    const t0 = Date.now()
    p.child.kill('SIGINT')
    assert.equal(await p.exited, 0)
    assert.ok(Date.now() - t0 < 1500, `stopped in ${Date.now() - t0} ms`)
  })

  it('is off by default in carafe serve', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-live-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    await writeFile(path.join(dir, 'index.html'), PAGE)
    const p = spawnCli(t, ['serve', dir, '--port', '0', '--bind', '127.0.0.1', '-q'])
    const url = await waitForServer(p)
    assert.equal((await request(`${url}/`)).body.toString(), PAGE)
    assert.equal((await request(`${url}/__carafe/live.js`)).status, 404)
  })

  it('carafe run --reload adds the script to the app\'s HTML answers, and the restarted app greets with a new boot id (the page reloads)', async (t) => {
    const dir = await appDir()
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'app.ts')
    const source = (word: string): string => `import { Carafe } from 'carafe'\nconst app = new Carafe()\napp.get('/', (c) => c.html('<body><p>${word}</p></body>'))\napp.get('/data', () => ({ word: '${word}' }))\nexport default app\n`
    await writeFile(file, source('one'))
    const p = spawnCli(t, ['run', file, '--port', '0', '--host', '127.0.0.1', '--reload'])
    const url = await waitForServer(p)
    assert.equal((await request(`${url}/`)).body.toString(), '<body><p>one</p><script src="/__carafe/live.js"></script></body>')
    assert.equal((await request(`${url}/data`)).body.toString(), '{"word":"one"}')
    const first = await events(t, `${url}/__carafe/live`)
    const boot1 = (await first.next(/event: hello/)).split('data: ')[1]
    await writeFile(file, source('two'))
    // The reloader stops the child (the open stream must not hold that up) and starts the new one.
    await p.waitFor(/(?:[^]*?Serving HTTP on){2}/, 15_000)
    const port = [...p.stdout().matchAll(/port (\d+)/g)].at(-1)![1]
    const again = await events(t, `http://127.0.0.1:${port}/__carafe/live`)
    const boot2 = (await again.next(/event: hello/)).split('data: ')[1]
    assert.notEqual(boot2, boot1)
    assert.match((await request(`http://127.0.0.1:${port}/`)).body.toString(), /two<\/p><script/)
    p.child.kill('SIGTERM')
    assert.equal(await p.exited, 0)
  })
})
