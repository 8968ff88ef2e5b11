import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnCli, waitForServer } from '../helpers/spawn.js'

const THING = '나의 비밀 방'
const enc = encodeURIComponent

function flask3(thing: string, other: string): string {
  return `<html>\n    <head>\n        <title>Flask3 예제</title>\n    </head>\n    <body>\n        안녕하세요. ${thing}입니다.\n        여기에는 ${other}이 있습니다.\n    </body>\n</html>`
}

const HOME = '내 <b>새로운</b> 그리고 <i>조금은 향상된</i> 홈페이지이다!'

/** What the Python originals answer (measured side by side with Debian's Bottle 0.12 and Flask 2.2), by URL. */
const CASES: Record<string, Array<[string, number, string | null]>> = {
  bottle2: [
    ['/', 200, HOME],
    [`/subpage/${enc(THING)}`, 200, `안녕하세요. 여긴 저의 ${THING} 입니다. 어떻게 이 곳을 잘 찾아오셨군요. `],
    ['/subpage/x', 200, '안녕하세요. 여긴 저의 x 입니다. 어떻게 이 곳을 잘 찾아오셨군요. '],
    ['/subpage', 404, null],
    ['/subpage/', 404, null],
    ['/nope', 404, null],
    ['/subpage/%E0%A4', 400, null],
  ],
  flask2: [
    ['/', 200, HOME],
    [`/subpage/${enc(THING)}`, 200, `<html>\n    <head>\n        <title>Flask2 예제</title>\n    </head>\n    <body>\n        안녕하세요. ${THING}입니다.\n    </body>\n</html>`],
    ['/subpage/%3Cb%3E', 200, `<html>\n    <head>\n        <title>Flask2 예제</title>\n    </head>\n    <body>\n        안녕하세요. &lt;b&gt;입니다.\n    </body>\n</html>`],
    ['/nope', 404, null],
  ],
  flask3a: [
    ['/', 200, HOME],
    [`/subpage/${enc(THING)}/${enc('보석')}`, 200, flask3(THING, '보석')],
    [`/subpage/${enc(THING)}`, 404, null],
  ],
  flask3b: [
    ['/', 200, HOME],
    [`/subpage/?thing=${enc(THING)}&other_thing=${enc('보석')}`, 200, flask3(THING, '보석')],
    ['/subpage/', 200, flask3('None', 'None')],
    ['/subpage/?thing=%EB%82%98&other_thing=%3Cb%3E', 200, flask3('나', '&lt;b&gt;')],
    ['/subpage/x', 404, null],
  ],
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
    [`/subpage/${enc(THING)}`, 200, `안녕하세요. 여긴 저의 ${THING} 입니다. 어떻게 이 곳을 잘 찾아오셨군요. `],
    ['/subpage/', 404, null],
    ['/subpage', 404, null],
    ['/templates', 404, null],
    ['/templates/', 404, null],
    ['/templates/flask2.html', 200, null],
    ['/nope', 404, null],
    ['/%2e%2e/x', 404, null],
  ],
  flask3c: [
    [`/subpage/?thing=${enc(THING)}&other_thing=${enc('보석')}`, 200, flask3(THING, '보석')],
    ['/subpage/', 200, flask3('None', 'None')],
  ],
}

describe('seed example ports answer what the Python originals answer', () => {
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
      if (name.startsWith('flask3b')) {
        const res = await fetch(`${url}/subpage?thing=a`, { redirect: 'manual' })
        assert.equal(res.status, 308)
        assert.equal(res.headers.get('location'), '/subpage/?thing=a')
      }
      p.child.kill('SIGINT')
      assert.equal(await p.exited, 0)
    })
  }
})
