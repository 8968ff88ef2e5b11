import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { spawnCli, waitForServer } from '../helpers/spawn.js'

describe('examples/forms', () => {
  it('validates the HTML form (re-rendered with escaped errors) and the JSON API, and saves uploads', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-forms-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const p = spawnCli(t, ['run', 'examples/forms/app.ts', '--port', '0', '--host', '127.0.0.1'], { UPLOAD_DIR: dir })
    const url = await waitForServer(p)

    let res = await fetch(url + '/', { method: 'POST', body: new URLSearchParams({ title: '<script>x</script>', rating: '9' }) })
    assert.equal(res.status, 400)
    let html = await res.text()
    assert.match(html, /value="&lt;script&gt;x&lt;\/script&gt;"/)
    assert.match(html, /<div class="error">to 5<\/div>/)

    const form = new FormData()
    form.set('title', '첫 노트')
    form.set('rating', '4')
    form.set('attachment', new Blob(['file body']), '../../evil name.txt')
    res = await fetch(url + '/', { method: 'POST', body: form, redirect: 'manual' })
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/')
    html = await (await fetch(url + '/')).text()
    // The stylesheet link comes from {{ static('style.css') }} and is served from static/.
    assert.match(html, /<link rel="stylesheet" href="\/static\/style\.css">/)
    const css = await fetch(url + '/static/style.css')
    assert.equal(css.status, 200)
    assert.match(String(css.headers.get('content-type')), /^text\/css/)
    assert.match(await css.text(), /\.error \{/)
    assert.match(html, /<b>첫 노트<\/b> \(4\/5\)  — evil name\.txt/)
    assert.deepEqual(await readdir(dir), ['evil name.txt'])
    assert.equal(await readFile(path.join(dir, 'evil name.txt'), 'utf8'), 'file body')

    res = await fetch(url + '/api/notes', { method: 'POST', body: JSON.stringify({ title: 'api', rating: 5 }), headers: { 'content-type': 'application/json' } })
    assert.equal(res.status, 201)
    assert.equal((await res.json() as { id: number }).id, 2)
    res = await fetch(url + '/api/notes', { method: 'POST', body: JSON.stringify({ title: '', rating: 0 }), headers: { 'content-type': 'application/json' } })
    assert.equal(res.status, 400)
    const err = await res.json() as { issues: Array<{ path: string; message: string }> }
    assert.deepEqual(err.issues.map((i) => i.path), ['title', 'rating'])
    res = await fetch(url + '/api/notes', { method: 'POST', body: '{oops', headers: { 'content-type': 'application/json' } })
    assert.equal(res.status, 400)
    assert.equal((await (await fetch(url + '/api/notes')).json() as unknown[]).length, 2)
  })
})
