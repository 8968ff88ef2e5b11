import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Carafe } from '../../src/index.js'
import { session } from '../../src/session/index.js'
import { testClient, type TestClient } from '../../src/testing/client.js'
import { serve } from '../helpers/server.js'

const TEMPLATES: Record<string, string> = {
  'plain.html': '<ul>{% for m in get_flashed_messages() %}<li>{{ m }}</li>{% endfor %}</ul>',
  'categories.html': '<ul>{% for cat, msg in get_flashed_messages(with_categories=true) %}<li class="{{ cat }}">{{ msg }}</li>{% endfor %}</ul>',
  'positional.html': '<ul>{% for pair in get_flashed_messages(true, ["error"]) %}<li>{{ pair[0] }}:{{ pair[1] }}</li>{% endfor %}</ul>',
  'errors.html': '<ul>{% for m in get_flashed_messages(category_filter=["error"]) %}<li>{{ m }}</li>{% endfor %}</ul>',
  'twice.html': '{{ get_flashed_messages() | length }}/{{ get_flashed_messages() | length }}',
}

/** A site that flashes on POST and redirects, with pages that show the messages and some that do not. */
async function flashSite(t: TestContext): Promise<TestClient> {
  const root = await mkdtemp(path.join(tmpdir(), 'carafe-flash-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  await mkdir(path.join(root, 'templates'))
  for (const [name, text] of Object.entries(TEMPLATES)) await writeFile(path.join(root, 'templates', name), text)
  const app = new Carafe({ root, templates: 'templates' })
  app.use(session())
  app.post('/login', async (c) => {
    const f = await c.req.form()
    const cats = f.getAll('cat')
    // An empty or missing category: the default ('message').
    for (const [i, message] of f.getAll('m').entries()) c.flash(String(message), cats[i] ? String(cats[i]) : undefined)
    return c.redirect(f.text('next') ?? '/plain')
  })
  app.get('/page/<name>', (c) => c.render(`${c.params.name}.html`))
  app.post('/inline', (c) => { c.flash('Fix the form', 'error'); return c.render('plain.html', {}, 422) })
  app.get('/app.css', () => new Response('body { color: red }', { headers: { 'content-type': 'text/css' } }))
  app.get('/api/data', (c) => ({ xhr: c.req.header('x-requested-with') ?? null }))
  app.get('/api/flashes', (c) => ({ all: c.flashes(), again: c.flashes().length }))
  const s = await serve(t, app)
  return testClient(app, { origin: s.url, fetch: (r) => fetch(r) })
}

async function flashThenFollow(client: TestClient, messages: Array<[string, string?]>, page: string): Promise<string> {
  const form = new URLSearchParams()
  for (const [m, cat] of messages) {
    form.append('m', m)
    form.append('cat', cat ?? '')
  }
  form.append('next', page)
  const res = await client.post('/login', { body: form })
  assert.equal(res.status, 302)
  assert.equal(res.headers.get('location'), page)
  const next = await client.get(res.headers.get('location')!)
  assert.equal(next.status, 200)
  return next.text()
}

describe('flash messages (through real HTTP, with a cookie jar)', () => {
  it('shows flashed messages on the page after the redirect, once, escaped', async (t) => {
    const client = await flashSite(t)
    assert.equal(await flashThenFollow(client, [['Welcome back!'], ['<b>bold</b> & more']], '/page/plain'), '<ul><li>Welcome back!</li><li>&lt;b&gt;bold&lt;/b&gt; &amp; more</li></ul>')
    assert.equal(await (await client.get('/page/plain')).text(), '<ul></ul>')
  })

  it('gives [category, message] pairs with with_categories, by keyword or position, and filters by category', async (t) => {
    const client = await flashSite(t)
    assert.equal(
      await flashThenFollow(client, [['Saved'], ['Wrong password', 'error'], ['Heads up', 'warning']], '/page/categories'),
      '<ul><li class="message">Saved</li><li class="error">Wrong password</li><li class="warning">Heads up</li></ul>',
    )
    assert.equal(await flashThenFollow(client, [['Saved'], ['Wrong password', 'error']], '/page/positional'), '<ul><li>error:Wrong password</li></ul>')
    assert.equal(await flashThenFollow(client, [['Saved'], ['Bad email', 'error'], ['Bad name', 'error']], '/page/errors'), '<ul><li>Bad email</li><li>Bad name</li></ul>')
    // As in Flask, reading with a filter consumes them all, shown or not.
    assert.equal(await (await client.get('/page/categories')).text(), '<ul></ul>')
  })

  it('is not consumed by a request that does not read them (an asset, an XHR)', async (t) => {
    const client = await flashSite(t)
    const res = await client.post('/login', { form: { m: 'Still here', next: '/page/plain' } })
    assert.equal(res.status, 302)
    assert.equal((await client.get('/app.css')).status, 200)
    assert.deepEqual(await (await client.get('/api/data', { headers: { 'x-requested-with': 'XMLHttpRequest' } })).json(), { xhr: 'XMLHttpRequest' })
    assert.equal(await (await client.get('/page/plain')).text(), '<ul><li>Still here</li></ul>')
    assert.equal(await (await client.get('/page/plain')).text(), '<ul></ul>')
  })

  it('shows a message flashed while rendering the same request (a form shown again), and not again after', async (t) => {
    const client = await flashSite(t)
    const res = await client.post('/inline')
    assert.equal(res.status, 422)
    assert.equal(await res.text(), '<ul><li>Fix the form</li></ul>')
    assert.equal(await (await client.get('/page/plain')).text(), '<ul></ul>')
  })

  it('returns the same list to every read within one request, from templates and from c.flashes()', async (t) => {
    const client = await flashSite(t)
    assert.equal(await flashThenFollow(client, [['a'], ['b']], '/page/twice'), '2/2')
    await client.post('/login', { form: { m: ['x', 'y'], cat: ['info', 'error'] } })
    assert.deepEqual(await (await client.get('/api/flashes')).json(), { all: [{ message: 'x', category: 'info' }, { message: 'y', category: 'error' }], again: 2 })
    assert.deepEqual(await (await client.get('/api/flashes')).json(), { all: [], again: 0 })
  })
})
