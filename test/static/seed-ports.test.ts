import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { spawnCli, waitForServer } from '../helpers/spawn.js'

const HOME = '내 <b>새로운</b> 그리고 <i>조금은 향상된</i> 홈페이지이다!'
const THING = '나의 비밀 방'

/** What the Python originals answer (measured side by side with Debian's Bottle 0.12 and Flask 2.2), by URL. */
const CASES: Record<string, Array<[string, number, string | null]>> = {
  bottle1: [
    ['/', 200, HOME],
    ['/my_saying_homepage.html', 404, null],
    ['/subpage/x', 404, null],
    ['/nope', 404, null],
  ],
  flask1: [
    ['/', 200, HOME],
    ['/my_saying_homepage.html', 200, HOME],
    ['/subpage/x', 200, '안녕하세요. 여긴 저의 x 입니다. 어떻게 이 곳을 잘 찾아오셨군요. '],
    [`/subpage/${encodeURIComponent(THING)}`, 200, `안녕하세요. 여긴 저의 ${THING} 입니다. 어떻게 이 곳을 잘 찾아오셨군요. `],
    ['/subpage/', 404, null],
    ['/subpage', 404, null],
    ['/templates', 404, null],
    ['/templates/', 404, null],
    ['/templates/flask2.html', 200, null],
    ['/nope', 404, null],
    ['/%2e%2e/x', 404, null],
  ],
}

describe('seed ports that serve static files answer what the Python originals answer', () => {
  for (const [name, cases] of Object.entries(CASES)) {
    it(`${name}.ts`, async (t) => {
      const p = spawnCli(t, ['run', `examples/seed/${name}.ts`], { PORT: '0' })
      const url = await waitForServer(p)
      for (const [path, status, body] of cases) {
        const res = await fetch(url + path, { redirect: 'manual' })
        assert.equal(res.status, status, `${name} ${path}`)
        if (body !== null) assert.equal(await res.text(), body, `${name} ${path}`)
        else await res.arrayBuffer()
      }
      if (name === 'flask1') {
        const home = await fetch(`${url}/`)
        assert.equal(home.headers.get('content-type'), 'text/html; charset=utf-8')
        assert.equal(home.headers.get('cache-control'), 'no-cache') // as Flask sends
        assert.equal((await fetch(`${url}/`, { method: 'POST' })).status, 405)
        assert.equal((await fetch(`${url}/my_saying_homepage.html`, { method: 'POST' })).status, 405)
      }
      p.child.kill('SIGINT')
      assert.equal(await p.exited, 0)
    })
  }
})
