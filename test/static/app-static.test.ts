import assert from 'node:assert/strict'
import path from 'node:path'
import { describe, it } from 'node:test'
import { Carafe, staticFile } from '../../src/index.js'
import { DOORS } from '../helpers/server.js'
import { tempTree } from './helpers.js'

const FILES = {
  'public/app.css': 'body { color: red }',
  'public/index.html': '<h1>assets</h1>',
  'public/docs/guide.txt': 'guide',
  'public/.secret': 'no',
  'home.html': '<p>my homepage</p>',
  'notes/a.txt': 'a',
}

for (const [door, open] of Object.entries(DOORS)) {
  describe(`static files in apps, over the ${door} door`, () => {
    it('app.static() serves a folder under a prefix; the app\'s routes win', async (t) => {
      const dir = await tempTree(t, FILES)
      const app = new Carafe({ root: dir })
      app.static('/assets', 'public')
      app.get('/assets/special', () => 'a route')
      const send = await open(app, t)
      const css = await send('/assets/app.css')
      assert.equal(css.status, 200)
      assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8')
      assert.equal(await css.text(), 'body { color: red }')
      assert.equal(await (await send('/assets/special')).text(), 'a route')
      assert.equal(await (await send('/assets/')).text(), '<h1>assets</h1>')
      const bare = await send('/assets?v=1', { redirect: 'manual' })
      assert.equal(bare.status, 301)
      assert.equal(bare.headers.get('location'), '/assets/?v=1')
      const docs = await send('/assets/docs')
      assert.equal(docs.status, 301)
      assert.equal(docs.headers.get('location'), '/assets/docs/')
      assert.equal((await send('/assets/docs/')).status, 404) // no index, listings off in apps
      assert.equal((await send('/assets/.secret')).status, 404)
      assert.equal((await send('/assets/%2e%2e/home.html')).status, 404)
      const post = await send('/assets/app.css', { method: 'POST', body: 'x' })
      assert.equal(post.status, 405)
      assert.equal(post.headers.get('allow'), 'GET, HEAD, OPTIONS')
      const etag = css.headers.get('etag')!
      assert.equal((await send('/assets/app.css', { headers: { 'if-none-match': etag } })).status, 304)
    })

    it('new Carafe({ static }) is Flask\'s static_folder and static_url_path, with send_static_file', async (t) => {
      const dir = await tempTree(t, FILES)
      const app = new Carafe({ root: dir, static: { dir: '.', prefix: '' } })
      app.get('/', () => app.sendStaticFile('home.html'))
      app.get('/subpage/<thing>', (c) => `subpage ${c.params.thing}`)
      const send = await open(app, t)
      const home = await send('/')
      assert.equal(home.status, 200)
      assert.equal(home.headers.get('content-type'), 'text/html; charset=utf-8')
      assert.equal(await home.text(), '<p>my homepage</p>')
      assert.equal(await (await send('/subpage/x')).text(), 'subpage x')
      assert.equal(await (await send('/home.html')).text(), '<p>my homepage</p>')
      assert.equal(await (await send('/public/docs/guide.txt')).text(), 'guide')
      // Flask answers folders with 404: no index, no listing, no redirect.
      assert.equal((await send('/notes')).status, 404)
      assert.equal((await send('/notes/')).status, 404)
      assert.equal((await send('/missing.txt')).status, 404)
      assert.equal(app.url('static', { filename: 'notes/a.txt' }), '/notes/a.txt')
    })

    it('the static option defaults its prefix to the folder name, as Flask does', async (t) => {
      const dir = await tempTree(t, FILES)
      const app = new Carafe({ root: dir, static: { dir: 'public' } })
      const send = await open(app, t)
      assert.equal(await (await send('/public/app.css')).text(), 'body { color: red }')
      assert.equal(app.url('static', { filename: 'app.css' }), '/public/app.css')
    })

    it('staticFile() sends one file with the full engine: 304, Range, type and download options', async (t) => {
      const dir = await tempTree(t, FILES)
      const app = new Carafe({ root: dir })
      app.get('/', () => staticFile('home.html', { root: '.' }))
      app.get('/raw/<path:name>', (c) => staticFile(c.params.name, { root: 'public', type: 'text/plain; charset=utf-8' }))
      app.get('/get/<name>', (c) => staticFile(c.params.name, { root: path.join(dir, 'notes'), download: true }))
      app.get('/named', () => staticFile('notes/a.txt', { download: '나의 파일.txt' }))
      const send = await open(app, t)
      const home = await send('/')
      assert.equal(await home.text(), '<p>my homepage</p>')
      assert.equal((await send('/', { headers: { 'if-none-match': home.headers.get('etag')! } })).status, 304)
      const part = await send('/', { headers: { range: 'bytes=3-4' } })
      assert.equal(part.status, 206)
      assert.equal(await part.text(), 'my')
      const raw = await send('/raw/index.html')
      assert.equal(raw.headers.get('content-type'), 'text/plain; charset=utf-8')
      assert.equal((await send('/raw/..%2F..%2Fhome.html')).status, 404)
      assert.equal((await send('/raw/.secret')).status, 404)
      assert.equal((await send('/raw/docs')).status, 404)
      const dl = await send('/get/a.txt')
      assert.equal(dl.headers.get('content-disposition'), 'attachment; filename="a.txt"')
      const named = await send('/named')
      assert.equal(named.headers.get('content-disposition'), `attachment; filename="__ __.txt"; filename*=UTF-8''${encodeURIComponent('나의 파일.txt')}`)
    })

    it('static() in templates and app.staticUrl() link to the static folder, encoded', async (t) => {
      const dir = await tempTree(t, {
        ...FILES,
        'public/나의 사진.txt': 'photo',
        'templates/page.html': '<link href="{{ static(\'app.css\') }}"><a href="{{ static(name) }}">{{ name }}</a>',
      })
      const app = new Carafe({ root: dir })
      assert.throws(() => app.staticUrl('app.css'), /serves no static files/)
      app.static('/assets/', 'public')
      app.get('/', (c) => c.render('page.html', { name: '나의 사진.txt' }))
      assert.equal(app.staticUrl('/img/a b.png'), '/assets/img/a%20b.png')
      const send = await open(app, t)
      const html = await (await send('/')).text()
      const link = `/assets/${encodeURIComponent('나의 사진.txt')}`
      assert.equal(html, `<link href="/assets/app.css"><a href="${link}">나의 사진.txt</a>`)
      assert.equal(await (await send(link)).text(), 'photo')
      // Flask's static folder comes first when there is one.
      const flask = new Carafe({ root: dir, static: { dir: 'public', prefix: '/s' } })
      flask.static('/other', 'notes')
      assert.equal(flask.staticUrl('app.css'), '/s/app.css')
    })

    it('sendStaticFile() without a static folder is an error that says what to do', async () => {
      const app = new Carafe()
      assert.throws(() => app.sendStaticFile('x.html'), /no static folder/)
    })
  })
}
